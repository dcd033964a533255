using System.Net;
using Mmcp.Gateway.Tests.PassThrough;

namespace Mmcp.Gateway.Tests.Aggregation;

/// <summary>
/// A request answered on its own SSE stream by the SDK (a call with a progress token) and cancelled by the client, on
/// both MCP endpoints: its stream ends, with no answer, and the call is cancelled on the server.
/// </summary>
[Trait("Speed", "slow")]
public sealed class SdkLaneCancellationTests
{
    public static TheoryData<string, bool> Routes => new()
    {
        { "/mcp", true },
        { "/servers/" + PassThroughCancellationTests.Server + "/mcp", true },
        { "/servers/" + PassThroughCancellationTests.Server + "/mcp", false },
    };

    /// <summary>
    /// Regression: the cancellation got 202 and the progress stopped, but the cancelled POST's SSE response stayed open
    /// (still open after 11 minutes): the SDK's stream of a request waits for the request's answer, and MCP sends none
    /// to a cancelled request. Now the stream ends, cleanly, without an answer, as the direct lane's does.
    /// </summary>
    [Theory]
    [MemberData(nameof(Routes))]
    public async Task StreamedCallCancelled_ItsResponseEndsWithoutAnAnswer_AndTheServerIsToldToCancel(string route, bool dedicated)
    {
        using var env = new TestEnvironment();
        var tap = await PassThroughCancellationTests.WriteTappedEverythingAsync(env);
        await using var gateway = await GatewayHost.StartAsync(env, o => o.DedicatedUpstreamSessions = dedicated);
        var session = await RawSession.OpenAsync(gateway, path: route);
        var tool = route == "/mcp" ? "local_everything__trigger-long-running-operation" : "trigger-long-running-operation";

        // The gateway's HttpClient gives up after TestTimeouts.Default: the call's task completes only when its body ends.
        var call = session.PostAsync("""{"jsonrpc":"2.0","id":"long-7","method":"tools/call","params":{"name":"TOOL","arguments":{"duration":600,"steps":600},"_meta":{"progressToken":"p7"}}}""".Replace("TOOL", tool, StringComparison.Ordinal));
        var upstreamId = await PassThroughCancellationTests.UpstreamCallIdAsync(tap);
        var cancel = await session.PostAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long-7","reason":"user"}}""");

        Assert.Equal(HttpStatusCode.Accepted, cancel.Status);
        await PassThroughCancellationTests.WaitForCancelledAsync(tap, upstreamId);
        var ended = await call.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.True(ended.Status is HttpStatusCode.OK or HttpStatusCode.Accepted, ended.Status.ToString());
        Assert.DoesNotContain("\"result\"", ended.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"error\"", ended.Body, StringComparison.Ordinal);

        // The session goes on.
        var ping = await session.PostAsync("""{"jsonrpc":"2.0","id":8,"method":"ping"}""");
        Assert.Contains("\"id\":8", ping.Payload, StringComparison.Ordinal);
        await session.DeleteAsync();
    }
}
