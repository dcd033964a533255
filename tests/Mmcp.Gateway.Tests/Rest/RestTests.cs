using System.Net;
using System.Text.Json;

namespace Mmcp.Gateway.Tests.Rest;

/// <summary>REST, OpenAPI and health over a real stdio server.</summary>
public sealed class RestTests
{
    [Fact]
    public async Task ToolsListAndCall_ByAggregatedNameOrServerAndTool()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var get = await gateway.GetAsync("/mcp/tools/list");
        var post = await gateway.PostJsonAsync("/mcp/tools/list", "{}");
        var byName = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_alpha__add","arguments":{"a":2,"b":3}}""");
        var byServer = await gateway.PostJsonAsync("/mcp/tools/call", """{"server":"io.test.alpha","tool":"echo","arguments":{"text":"rest"}}""");
        var toolError = await gateway.PostJsonAsync("/mcp/tools/call", """{"server":"io.test.alpha","tool":"fail","arguments":{"message":"nope"}}""");

        Assert.Equal(HttpStatusCode.OK, get.Status);
        var tool = JsonDocument.Parse(get.Body).RootElement.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "io_test_alpha__echo");
        Assert.Equal("io.test.alpha", tool.GetProperty("server").GetString());
        Assert.Equal("echo", tool.GetProperty("tool").GetString());
        Assert.Equal(get.Body, post.Body);
        Assert.Contains("\"5\"", byName.Body, StringComparison.Ordinal);
        Assert.Contains("echo: rest", byServer.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, toolError.Status);
        Assert.True(JsonDocument.Parse(toolError.Body).RootElement.GetProperty("isError").GetBoolean());
    }

    [Theory]
    [InlineData("""{"name":"io_test_alpha__nope"}""", HttpStatusCode.NotFound, "UnknownTool")]
    [InlineData("""{"server":"io.test.nobody","tool":"echo"}""", HttpStatusCode.NotFound, "UnknownServer")]
    public async Task ToolsCall_Failure_MapsToStatusAndCode(string body, HttpStatusCode status, string code)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var response = await gateway.PostJsonAsync("/mcp/tools/call", body);

        Assert.Equal(status, response.Status);
        Assert.Equal(code, JsonDocument.Parse(response.Body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task ResourcesAndPrompts_ListReadAndGet()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var resources = await gateway.GetAsync("/mcp/resources/list");
        var read = await gateway.PostJsonAsync("/mcp/resources/read", """{"uri":"test://items/7"}""");
        var prompts = await gateway.GetAsync("/mcp/prompts/list");
        var prompt = await gateway.PostJsonAsync("/mcp/prompts/get", """{"name":"io_test_alpha__greet","arguments":{"name":"Ada"}}""");
        var missing = await gateway.PostJsonAsync("/mcp/resources/read", """{"uri":"nothing://here"}""");

        Assert.Contains("test://static", resources.Body, StringComparison.Ordinal);
        Assert.Contains("item 7", read.Body, StringComparison.Ordinal);
        Assert.Contains("io_test_alpha__greet", prompts.Body, StringComparison.Ordinal);
        Assert.Contains("Say hello to Ada", prompt.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
    }

    /// <summary>A resource's <c>uri</c> or a prompt's <c>name</c> of the wrong JSON type is 400 bad_request naming it (not a 500).</summary>
    [Theory]
    [InlineData("/mcp/resources/read", """{"uri":5}""", "\"uri\" must be a string")]
    [InlineData("/mcp/resources/read", """{"uri":{"a":1}}""", "\"uri\" must be a string")]
    [InlineData("/mcp/resources/read", """{"uri":"test://items/7","server":5}""", "\"server\" must be a string")]
    [InlineData("/mcp/prompts/get", """{"name":5}""", "\"name\" must be a string")]
    [InlineData("/mcp/prompts/get", """{"name":"io_test_alpha__greet","arguments":[1]}""", "\"arguments\" must be a JSON object")]
    public async Task ResourcesReadAndPromptsGet_ParamOfTheWrongType_Answers400NamingIt(string path, string body, string message)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var response = await gateway.PostJsonAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        var error = JsonDocument.Parse(response.Body).RootElement.GetProperty("error");
        Assert.Equal("bad_request", error.GetProperty("code").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_DescribesOneCallableOperationPerTool()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var (status, body) = await gateway.GetAsync("/openapi.json");
        var document = JsonDocument.Parse(body).RootElement;
        var operation = document.GetProperty("paths").GetProperty("/tools/io_test_alpha__add").GetProperty("post");
        var call = await gateway.PostJsonAsync("/tools/io_test_alpha__add", """{"a":20,"b":22}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("3.1.0", document.GetProperty("openapi").GetString());
        Assert.Equal("io_test_alpha__add", operation.GetProperty("operationId").GetString());
        Assert.Equal("integer", operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("properties").GetProperty("a").GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.OK, call.Status);
        Assert.Equal("\"42\"", call.Body);
    }

    /// <summary>An OpenAPI operation's empty body means no arguments however it is sent (regression: a chunked empty body,
    /// or one with no length, was read as JSON and answered 400 invalid_json).</summary>
    [Theory]
    [InlineData(true, "")]
    [InlineData(false, " \r\n")]
    public async Task OpenApi_EmptyBodySentChunkedOrBlank_MeansNoArguments(bool chunked, string body)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.Url + "/tools/io_test_alpha__pid") { Content = new StringContent(body) };
        request.Content.Headers.ContentType = null;
        request.Headers.TransferEncodingChunked = chunked;

        using var response = await gateway.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Matches("^\"?[0-9]+\"?$", text);
    }

    [Fact]
    public async Task Health_ReportsEveryServerAndItsLastFailure()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await env.WriteManifestAsync(Servers.Manifest("io.test.broken", new Core.Manifests.StdioTransport { Command = "/nonexistent/mmcp-test-server" }));
        await using var gateway = await GatewayHost.StartAsync(env);
        await gateway.PostJsonAsync("/mcp/tools/call", """{"server":"io.test.broken","tool":"x"}""");

        var (status, body) = await gateway.GetAsync("/health");
        var servers = JsonDocument.Parse(body).RootElement.GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("LaunchFailed", servers["io.test.broken"].GetProperty("lastFailure").GetProperty("code").GetString());
        Assert.True(servers.ContainsKey("io.test.alpha"));
    }

    [Fact]
    public async Task EveryCall_IsAudited()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using (var gateway = await GatewayHost.StartAsync(env))
        {
            await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_alpha__echo","arguments":{"text":"secret payload"}}""");
            await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_alpha__fail","arguments":{"message":"x"}}""");
        }

        var lines = (await File.ReadAllLinesAsync(env.AuditPath, TestContext.Current.CancellationToken)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(env.AuditPath));
        Assert.Contains(lines, l => l.GetProperty("tool").GetString() == "echo" && l.GetProperty("outcome").GetString() == "ok" && l.GetProperty("caller").GetString() == "local" && l.GetProperty("surface").GetString() == "rest");
        Assert.Contains(lines, l => l.GetProperty("tool").GetString() == "fail" && l.GetProperty("outcome").GetString() == "tool-error");
        Assert.All(lines, l => Assert.True(l.GetProperty("durationMs").GetDouble() >= 0));
        Assert.DoesNotContain("secret payload", string.Join('\n', lines.Select(l => l.GetRawText())), StringComparison.Ordinal);
    }

    /// <summary>
    /// A lone surrogate escape in a name or URI (valid JSON, not text) made the REST face throw on reading it: 500 with an
    /// empty body and an unhandled exception in the log. It reads as U+FFFD now, as on the MCP faces, so the answer is
    /// the clear error for a name or URI nobody has; in arguments the call goes through.
    /// </summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task LoneSurrogates_InNamesAndUris_GetClearErrors()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var tool = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_alpha__echo\ud800","arguments":{}}""");
        var byServer = await gateway.PostJsonAsync("/mcp/tools/call", """{"server":"io.test.alpha","tool":"echo\udc00","arguments":{}}""");
        var resource = await gateway.PostJsonAsync("/mcp/resources/read", """{"uri":"test://static\ud83d"}""");
        var prompt = await gateway.PostJsonAsync("/mcp/prompts/get", """{"name":"io_test_alpha__greet\ud83d","arguments":{"name":"Ada"}}""");
        var argument = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_alpha__echo","arguments":{"text":"cut \ud83d"}}""");

        Assert.Equal(HttpStatusCode.NotFound, tool.Status);
        Assert.Contains("'io_test_alpha__echo\uFFFD'", JsonDocument.Parse(tool.Body).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, byServer.Status);
        Assert.Equal(HttpStatusCode.NotFound, resource.Status);
        Assert.Equal(HttpStatusCode.NotFound, prompt.Status);
        Assert.Equal(HttpStatusCode.OK, argument.Status);
        Assert.Equal("echo: cut \uFFFD", JsonDocument.Parse(argument.Body).RootElement.GetProperty("content")[0].GetProperty("text").GetString());
    }
}
