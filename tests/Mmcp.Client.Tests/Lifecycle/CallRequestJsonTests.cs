using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mmcp.Client.Lifecycle;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Lifecycle;

/// <summary>A tool call the hub writes straight as JSON (its reader-matched way) says what the SDK sends for the same
/// request, and its arguments go as the caller wrote them.</summary>
public sealed class CallRequestJsonTests
{
    public static TheoryData<string> Arguments => new()
    {
        """{}""",
        """{"text":"hi"}""",
        """{"text":"quotes \" and \\ backslash, <html> & 'apostrophes', tab\t, nul\u0000, é, 日本, emoji 😀"}""",
        """{"n":1,"f":-2.5e-7,"big":12345678901234567890,"t":true,"z":null,"list":[1,"two",{"three":[3]}],"nested":{"a":{"b":{"c":[]}}}}""",
    };

    [Theory]
    [MemberData(nameof(Arguments))]
    [Trait("Issue12", "8")]
    public void CallRequestJson_SaysWhatTheSdkSends_WithTheArgumentsAsWritten(string arguments)
    {
        var parameters = new CallToolRequestParams
        {
            Name = "tool_名前",
            Arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(arguments),
            Meta = new JsonObject { ["progressToken"] = "mmcp-progress-7" },
        };

        var sdk = JsonSerializer.Serialize<JsonRpcMessage>(ServerSession.CallRequest(new RequestId("mmcp-call-7"), parameters), McpJsonUtilities.DefaultOptions);
        var direct = Encoding.UTF8.GetString(ServerSession.CallRequestJson("mmcp-call-7", parameters).Span);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(sdk), JsonNode.Parse(direct)), $"{sdk}\n{direct}");
        Assert.Contains("\"arguments\":" + arguments, direct, StringComparison.Ordinal);
    }

    /// <summary>A lone surrogate escape is valid JSON, but the SDK cannot write it again (it throws, and the call failed
    /// with an internal error); the hub's way passes it on as the client wrote it.</summary>
    [Fact]
    [Trait("Issue12", "5")]
    public void CallRequestJson_AnArgumentTheSdkCannotWrite_GoesAsTheClientWroteIt()
    {
        using var request = JsonDocument.Parse("""{"text":"lone \ud800 surrogate"}""");
        var parameters = new CallToolRequestParams
        {
            Name = "echo",
            Arguments = request.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value),
        };

        Assert.Throws<JsonException>(() => ServerSession.CallRequest(new RequestId("mmcp-call-2"), parameters));
        var direct = Encoding.UTF8.GetString(ServerSession.CallRequestJson("mmcp-call-2", parameters).Span);

        Assert.Equal("""{"method":"tools/call","params":{"name":"echo","arguments":{"text":"lone \ud800 surrogate"}},"id":"mmcp-call-2","jsonrpc":"2.0"}""", direct);
    }

    [Fact]
    [Trait("Issue12", "8")]
    public void CallRequestJson_WithoutArguments_IsWhatTheSdkSends()
    {
        var parameters = new CallToolRequestParams { Name = "now" };

        var sdk = JsonSerializer.Serialize<JsonRpcMessage>(ServerSession.CallRequest(new RequestId("mmcp-call-1"), parameters), McpJsonUtilities.DefaultOptions);

        Assert.Equal(sdk, Encoding.UTF8.GetString(ServerSession.CallRequestJson("mmcp-call-1", parameters).Span));
    }
}
