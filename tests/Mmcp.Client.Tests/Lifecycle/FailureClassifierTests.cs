using System.Net;
using Mmcp.Client.Lifecycle;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Mmcp.Client.Tests.Lifecycle;

/// <summary>Which failures are the server's fault, which are transient, and which mean the session was lost.</summary>
public sealed class FailureClassifierTests
{
    private static readonly Task<ClientCompletionDetails> Running = new TaskCompletionSource<ClientCompletionDetails>().Task;

    private static readonly Dictionary<string, Exception> FailuresByName = new(StringComparer.Ordinal)
    {
        ["io"] = new IOException("pipe closed"),
        ["disposed"] = new ObjectDisposedException("client"),
        ["http"] = new HttpRequestException("refused"),
        ["http404"] = new HttpRequestException("gone", null, HttpStatusCode.NotFound),
        ["cancelled"] = new OperationCanceledException(),
        ["resourceNotFound"] = new McpProtocolException("no such thing", McpErrorCode.ResourceNotFound),
        ["invalidParams"] = new McpProtocolException("bad argument", McpErrorCode.InvalidParams),
        ["methodNotFound"] = new McpProtocolException("no such method", McpErrorCode.MethodNotFound),
        ["internal"] = new McpProtocolException("boom", McpErrorCode.InternalError),
        ["other"] = new InvalidOperationException("odd"),
    };

    /// <summary>The code of each failure by connection state, budget and request kind.</summary>
    [Theory]
    [Trait("Issue13", "rooms")]
    [InlineData("io", false, false, nameof(RequestKind.CallTool), HubErrorCode.ServerCrashed)]
    [InlineData("disposed", false, false, nameof(RequestKind.List), HubErrorCode.ServerCrashed)]
    [InlineData("http", false, false, nameof(RequestKind.List), HubErrorCode.ServerCrashed)]
    [InlineData("internal", true, false, nameof(RequestKind.CallTool), HubErrorCode.ServerCrashed)]
    [InlineData("cancelled", true, true, nameof(RequestKind.CallTool), HubErrorCode.ServerCrashed)]
    [InlineData("cancelled", false, true, nameof(RequestKind.CallTool), HubErrorCode.CallTimeout)]
    [InlineData("cancelled", false, false, nameof(RequestKind.CallTool), HubErrorCode.ServerError)]
    [InlineData("resourceNotFound", false, false, nameof(RequestKind.List), HubErrorCode.NotFound)]
    [InlineData("invalidParams", false, false, nameof(RequestKind.ReadResource), HubErrorCode.NotFound)]
    [InlineData("invalidParams", false, false, nameof(RequestKind.CallTool), HubErrorCode.InvalidArguments)]
    [InlineData("invalidParams", false, false, nameof(RequestKind.GetPrompt), HubErrorCode.InvalidArguments)]
    [InlineData("invalidParams", false, false, nameof(RequestKind.List), HubErrorCode.ServerError)]
    [InlineData("methodNotFound", false, false, nameof(RequestKind.List), HubErrorCode.ServerError)]
    [InlineData("internal", false, true, nameof(RequestKind.CallTool), HubErrorCode.ServerError)]
    [InlineData("other", false, false, nameof(RequestKind.CallTool), HubErrorCode.ServerError)]
    public void Classify_EachFailure_HasItsCode(string failure, bool connectionLost, bool timedOut, string kind, HubErrorCode expected) =>
        Assert.Equal(expected, FailureClassifier.Classify(FailuresByName[failure], connectionLost, timedOut, Enum.Parse<RequestKind>(kind)));

    /// <summary>Only a crash is transient, and only a configuration error or a missing sign-in does not count towards the back-off.</summary>
    [Fact]
    [Trait("Issue13", "rooms")]
    public void IsTransientAndCountsTowardsBackoff_EachCode_OnlyCrashAndOnlyConfigurationOrSignIn()
    {
        foreach (var code in Enum.GetValues<HubErrorCode>())
        {
            Assert.Equal(code == HubErrorCode.ServerCrashed, FailureClassifier.IsTransient(code));
            Assert.Equal(code is not (HubErrorCode.ConfigurationError or HubErrorCode.SignInRequired), FailureClassifier.CountsTowardsBackoff(code));
        }
    }

    /// <summary>The answers that say the server no longer knows the session, and look-alikes that do not.</summary>
    [Theory]
    [Trait("Issue13", "rooms")]
    [InlineData("http 404", true)]
    [InlineData("http 404 inside", true)]
    [InlineData("session -32000", true)]
    [InlineData("session -32001", true)]
    [InlineData("session Bad Request", true)]
    [InlineData("session Not Found", true)]
    [InlineData("session internal", false)]
    [InlineData("no session word -32000", false)]
    [InlineData("http 500", false)]
    [InlineData("io", false)]
    public void IsSessionLost_EachAnswer_SaysWhetherANewSessionCuresIt(string answer, bool expected)
    {
        Exception exception = answer switch
        {
            "http 404" => new HttpRequestException("gone", null, HttpStatusCode.NotFound),
            "http 404 inside" => new InvalidOperationException("send failed", new HttpRequestException("gone", null, HttpStatusCode.NotFound)),
            "session -32000" => new McpProtocolException("Bad Request: No valid session ID provided", (McpErrorCode)(-32000)),
            "session -32001" => new McpProtocolException("Session not found", (McpErrorCode)(-32001)),
            "session Bad Request" => new McpProtocolException("Bad Request: unknown session", McpErrorCode.InvalidRequest),
            "session Not Found" => new McpProtocolException("Not Found: session expired", McpErrorCode.InvalidRequest),
            "session internal" => new McpProtocolException("session store failed", McpErrorCode.InternalError),
            "no session word -32000" => new McpProtocolException("Bad Request: malformed body", (McpErrorCode)(-32000)),
            "http 500" => new HttpRequestException("fault", null, HttpStatusCode.InternalServerError),
            _ => new IOException("pipe closed"),
        };

        Assert.Equal(expected, FailureClassifier.IsSessionLost(exception, Running));
    }

    /// <summary>A connection the SDK ended on a 404 lost its session whatever the request threw; one ended otherwise did not.</summary>
    [Theory]
    [Trait("Issue13", "rooms")]
    [InlineData(HttpStatusCode.NotFound, true)]
    [InlineData(HttpStatusCode.InternalServerError, false)]
    public void IsSessionLost_ConnectionEndedWithStatus_FollowsTheStatus(HttpStatusCode status, bool expected)
    {
        var ended = Task.FromResult<ClientCompletionDetails>(new HttpClientCompletionDetails { HttpStatusCode = status });

        Assert.Equal(expected, FailureClassifier.IsSessionLost(new IOException("closed"), ended));
        Assert.Equal((int)status, FailureClassifier.FindHttpStatus(new IOException("closed"), ended));
    }

    /// <summary>The status of an exception in the chain wins over the connection's end, and none is known for a running connection.</summary>
    [Fact]
    [Trait("Issue13", "rooms")]
    public void FindHttpStatus_ExceptionOrRunning_StatusOrNull()
    {
        var ended = Task.FromResult<ClientCompletionDetails>(new HttpClientCompletionDetails { HttpStatusCode = HttpStatusCode.NotFound });

        Assert.Equal(400, FailureClassifier.FindHttpStatus(new InvalidOperationException("x", new HttpRequestException("bad", null, HttpStatusCode.BadRequest)), ended));
        Assert.Null(FailureClassifier.FindHttpStatus(new IOException("closed"), Running));
        Assert.Null(FailureClassifier.FindHttpStatus(null, Running));
    }
}
