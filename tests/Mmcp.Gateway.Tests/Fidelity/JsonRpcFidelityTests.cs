using System.Net;
using System.Text.Json;

namespace Mmcp.Gateway.Tests.Fidelity;

/// <summary>JSON-RPC errors the spec names, on every MCP route of a real gateway over a real upstream.</summary>
public sealed class JsonRpcFidelityTests
{
    public static TheoryData<string> Routes => ["/mcp", "/servers/io.test.alpha/mcp"];

    /// <summary>Malformed JSON is a parse error (-32700) with a null id, in a session and before one.</summary>
    [Theory]
    [MemberData(nameof(Routes))]
    [Trait("Issue12", "5")]
    public async Task Post_MalformedJson_AnswersParseError(string route)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: route);

        var inSession = await session.PostAsync("""{"jsonrpc":"2.0","id":7,"method":"tools/list",""");
        var (status, body) = await gateway.PostJsonAsync(route, "{not json");

        Assert.Equal(HttpStatusCode.BadRequest, inSession.Status);
        AssertError(inSession.Body, -32700, null);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertError(body, -32700, null);
        await AssertSessionStillWorksAsync(session, route);
    }

    /// <summary>A tools/call without a tool name, or with arguments that are not an object, is invalid params (-32602) with the request's id.</summary>
    [Theory]
    [MemberData(nameof(Routes))]
    [Trait("Issue12", "5")]
    public async Task ToolsCall_MissingNameOrNonObjectArguments_AnswersInvalidParams(string route)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: route);

        var noName = await session.PostAsync("""{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"arguments":{}}}""");
        var noParams = await session.PostAsync("""{"jsonrpc":"2.0","id":12,"method":"tools/call"}""");
        var numberName = await session.PostAsync("""{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":5}}""");
        var stringArguments = await session.PostAsync("""{"jsonrpc":"2.0","id":"s14","method":"tools/call","params":{"name":"echo","arguments":"hello"}}""");
        var arrayArguments = await session.PostAsync("""{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"echo","arguments":[1]}}""");

        AssertError(noName.Payload, -32602, 11);
        AssertError(noParams.Payload, -32602, 12);
        AssertError(numberName.Payload, -32602, 13);
        AssertError(stringArguments.Payload, -32602, "s14");
        AssertError(arrayArguments.Payload, -32602, 15);
        await AssertSessionStillWorksAsync(session, route);
    }

    /// <summary>
    /// Regression: a <c>logging/setLevel</c> whose level is not one of MCP's answered -32603 "An error occurred." (on
    /// <c>/servers/{id}/mcp</c> it failed while the gateway read the params). MCP's logging spec: an invalid log level is
    /// -32602 Invalid params. Now a bogus, missing or non-string level is -32602 naming the levels, with the request's
    /// id, and a valid level still works.
    /// </summary>
    [Theory]
    [MemberData(nameof(Routes))]
    public async Task LoggingSetLevel_InvalidLevel_AnswersInvalidParamsNamingTheLevels(string route)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: route);

        var bogus = await session.PostAsync("""{"jsonrpc":"2.0","id":9,"method":"logging/setLevel","params":{"level":"bogus"}}""");
        var missing = await session.PostAsync("""{"jsonrpc":"2.0","id":"s10","method":"logging/setLevel","params":{}}""");
        var number = await session.PostAsync("""{"jsonrpc":"2.0","id":11,"method":"logging/setLevel","params":{"level":3}}""");
        var noParams = await session.PostAsync("""{"jsonrpc":"2.0","id":12,"method":"logging/setLevel"}""");
        var valid = await session.PostAsync("""{"jsonrpc":"2.0","id":13,"method":"logging/setLevel","params":{"level":"warning"}}""");

        Assert.Equal(HttpStatusCode.OK, bogus.Status);
        Assert.Contains("debug, info, notice, warning, error, critical, alert, emergency", AssertError(bogus.Payload, -32602, 9), StringComparison.Ordinal);
        Assert.Contains("'bogus'", AssertError(bogus.Payload, -32602, 9), StringComparison.Ordinal);
        Assert.Contains("debug, info, notice, warning, error, critical, alert, emergency", AssertError(missing.Payload, -32602, "s10"), StringComparison.Ordinal);
        Assert.Contains("debug, info, notice, warning, error, critical, alert, emergency", AssertError(number.Payload, -32602, 11), StringComparison.Ordinal);
        Assert.Contains("debug, info, notice, warning, error, critical, alert, emergency", AssertError(noParams.Payload, -32602, 12), StringComparison.Ordinal);
        using (var answer = JsonDocument.Parse(valid.Payload))
        {
            Assert.Equal(13, answer.RootElement.GetProperty("id").GetInt32());
            Assert.True(answer.RootElement.TryGetProperty("result", out _), valid.Payload);
        }

        await AssertSessionStillWorksAsync(session, route);
    }

    /// <summary>
    /// Regression: a <c>resources/read</c> whose <c>uri</c> is not a string (<c>{"uri": 5}</c>) answered -32603 "An error
    /// occurred." (the SDK failed to read the params), and so did the other params of the wrong JSON type below.
    /// JSON-RPC says -32602 Invalid params; the message names the param and what it must be.
    /// </summary>
    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Request_ParamOfTheWrongType_AnswersInvalidParamsNamingIt(string route)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: route);

        var uriNumber = await session.PostAsync("""{"jsonrpc":"2.0","id":31,"method":"resources/read","params":{"uri":5}}""");
        var noUri = await session.PostAsync("""{"jsonrpc":"2.0","id":32,"method":"resources/read","params":{}}""");
        var subscribeObject = await session.PostAsync("""{"jsonrpc":"2.0","id":33,"method":"resources/subscribe","params":{"uri":{"a":1}}}""");
        var promptNumber = await session.PostAsync("""{"jsonrpc":"2.0","id":"s34","method":"prompts/get","params":{"name":5}}""");
        var refNumber = await session.PostAsync("""{"jsonrpc":"2.0","id":35,"method":"completion/complete","params":{"ref":5,"argument":{"name":"name","value":"A"}}}""");
        var refType = await session.PostAsync("""{"jsonrpc":"2.0","id":36,"method":"completion/complete","params":{"ref":{"type":"ref/nope"},"argument":{"name":"name","value":"A"}}}""");

        Assert.Equal(HttpStatusCode.OK, uriNumber.Status);
        Assert.Contains("'uri' must be a string", AssertError(uriNumber.Payload, -32602, 31), StringComparison.Ordinal);
        Assert.Contains("'uri'", AssertError(noUri.Payload, -32602, 32), StringComparison.Ordinal);
        Assert.Contains("'uri' must be a string", AssertError(subscribeObject.Payload, -32602, 33), StringComparison.Ordinal);
        Assert.Contains("'name' must be a string", AssertError(promptNumber.Payload, -32602, "s34"), StringComparison.Ordinal);
        Assert.Contains("'ref' must be an object", AssertError(refNumber.Payload, -32602, 35), StringComparison.Ordinal);
        Assert.Contains("'ref.type' must be", AssertError(refType.Payload, -32602, 36), StringComparison.Ordinal);
        await AssertSessionStillWorksAsync(session, route);
    }

    /// <summary>A JSON-RPC batch is refused with -32600 naming the decision (2025-06-18 removed batching), and changes nothing.</summary>
    [Theory]
    [MemberData(nameof(Routes))]
    [Trait("Issue12", "5")]
    public async Task Post_Batch_IsRefusedAsInvalidRequestNamingTheDecision(string route)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: route);

        var batch = await session.PostAsync("""[{"jsonrpc":"2.0","id":21,"method":"tools/list"},{"jsonrpc":"2.0","id":22,"method":"ping"}]""");

        Assert.Equal(HttpStatusCode.BadRequest, batch.Status);
        var message = AssertError(batch.Body, -32600, null);
        Assert.Contains("batch", message, StringComparison.OrdinalIgnoreCase);
        await AssertSessionStillWorksAsync(session, route);
    }

    private static string AssertError(string body, int code, object? id)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal("2.0", root.GetProperty("jsonrpc").GetString());
        Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetInt32());
        var actualId = root.GetProperty("id");
        switch (id)
        {
            case null:
                Assert.Equal(JsonValueKind.Null, actualId.ValueKind);
                break;
            case int number:
                Assert.Equal(number, actualId.GetInt32());
                break;
            case string text:
                Assert.Equal(text, actualId.GetString());
                break;
        }

        return root.GetProperty("error").GetProperty("message").GetString()!;
    }

    private static async Task AssertSessionStillWorksAsync(RawSession session, string route)
    {
        var tool = route == "/mcp" ? "io_test_alpha__echo" : "echo";
        var answer = await session.PostAsync("""{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"TOOL","arguments":{"text":"still here"}}}""".Replace("TOOL", tool, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Contains("still here", answer.Payload, StringComparison.Ordinal);
    }
}
