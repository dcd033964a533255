using System.Net;
using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Tests.Fidelity;

/// <summary>A tool result with every kind of content block reaches the client as the server wrote it, on every face and lane.</summary>
public sealed class ContentFidelityTests
{
    /// <summary>What the cut server's tool <c>rich</c> answers (Fidelity/cut-server.mjs), a field no revision defines included.</summary>
    internal const string Rich = """
        {
          "content": [
            { "type": "text", "text": "t", "annotations": { "audience": ["user"], "priority": 0.5, "lastModified": "2026-01-02T03:04:05Z" }, "_meta": { "io.example/k": 1 } },
            { "type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png" },
            { "type": "audio", "data": "UklGRg==", "mimeType": "audio/wav" },
            { "type": "resource_link", "uri": "cut://emoji", "name": "emoji", "title": "Emoji", "mimeType": "text/plain", "size": 7 },
            { "type": "resource", "resource": { "uri": "cut://blob", "blob": "AAEC", "mimeType": "application/octet-stream", "_meta": { "io.example/r": true } } }
          ],
          "structuredContent": { "a": 1 },
          "_meta": { "io.example/trace": { "deep": [1, 2, { "x": null }] } },
          "isError": false,
          "x-vendor": "a field no revision defines"
        }
        """;

    public static TheoryData<string, bool, bool> Faces => new()
    {
        { "/mcp", false, true }, // the direct lane: one JSON body
        { "/mcp", true, true }, // a progress token: the SDK's lane, an SSE stream
        { "/servers/io.cut/mcp", false, true }, // an upstream session of the client's own
        { "/servers/io.cut/mcp", true, true },
        { "/servers/io.cut/mcp", false, false }, // --shared-upstream: the hub's connection
        { "/servers/io.cut/mcp", true, false },
    };

    /// <summary>Text, image, audio, resource link and embedded resource blocks, annotations (an instant in the server's own notation), every <c>_meta</c>, structured content, isError and a vendor's field arrive unchanged.</summary>
    [Theory]
    [MemberData(nameof(Faces))]
    [Trait("Issue12", "fidelity")]
    public async Task ToolsCall_EveryKindOfContent_ArrivesAsTheServerWroteIt(string route, bool progress, bool dedicated)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.DedicatedUpstreamSessions = dedicated);
        var session = await RawSession.OpenAsync(gateway, path: route);
        var tool = route == "/mcp" ? "io_cut__rich" : "rich";
        var meta = progress ? ""","_meta":{"progressToken":"p"}""" : string.Empty;

        var answer = await session.PostAsync($$$"""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"{{{tool}}}","arguments":{}{{{meta}}}}}""");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(progress ? "text/event-stream" : "application/json", answer.ContentType);
        var payload = answer.Payload;
        var result = JsonNode.Parse(payload)!["result"]!.AsObject();
        var expected = JsonNode.Parse(Rich)!.AsObject();
        Assert.True(JsonNode.DeepEquals(expected, result), $"expected {expected.ToJsonString()}\nactual   {result.ToJsonString()}");
    }

    public static TheoryData<string, bool> ReadFaces => new()
    {
        { "/mcp", true },
        { "/servers/io.cut/mcp", true },
        { "/servers/io.cut/mcp", false },
    };

    /// <summary>A resources/read result keeps the server's own fields too.</summary>
    [Theory]
    [MemberData(nameof(ReadFaces))]
    [Trait("Issue12", "fidelity")]
    public async Task ResourcesRead_KeepsTheServersOwnFields(string route, bool dedicated)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.DedicatedUpstreamSessions = dedicated);
        var session = await RawSession.OpenAsync(gateway, path: route);

        var answer = await session.PostAsync("""{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"cut://emoji"}}""");

        var payload = answer.Payload;
        var result = JsonNode.Parse(payload)!["result"]!;
        Assert.Equal("read", (string?)result["x-vendor"]);
        Assert.Equal("smile \ufffd", (string?)result["contents"]![0]!["text"]);
        var (status, rest) = await gateway.PostJsonAsync("/mcp/resources/read", """{"uri":"cut://emoji"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("read", (string?)JsonNode.Parse(rest)!["x-vendor"]);
    }

    /// <summary>On a revision with per-request metadata the result's _meta keeps the server's entries and names this gateway as the server that answered.</summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task ToolsCall_2026Revision_MetaHasTheServersEntriesAndTheGatewaysIdentity()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env);
        await using var client = await gateway.ConnectAsync(protocolVersion: "2026-07-28");

        var result = await client.CallToolAsync("io_cut__rich", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.NotNull(result.Meta!["io.example/trace"]);
        Assert.Equal(client.ServerInfo!.Name, (string?)result.Meta["io.modelcontextprotocol/serverInfo"]?["name"]);
        Assert.Equal("t", ((ModelContextProtocol.Protocol.TextContentBlock)result.Content[0]).Text);
    }

    public static TheoryData<string, bool> ListFaces => new()
    {
        { "/mcp", true },
        { "/servers/io.cut/mcp", true },
        { "/servers/io.cut/mcp", false },
    };

    /// <summary>A tool's definition in tools/list keeps the server's own fields, under the name the face gives it; REST's list too.</summary>
    [Theory]
    [MemberData(nameof(ListFaces))]
    [Trait("Issue12", "fidelity")]
    public async Task ToolsList_KeepsTheServersOwnFieldsOfEachTool(string route, bool dedicated)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.DedicatedUpstreamSessions = dedicated);
        var session = await RawSession.OpenAsync(gateway, path: route);
        var name = route == "/mcp" ? "io_cut__rich" : "rich";

        var rich = (await ToolsAsync(session, 2)).Single(t => (string?)t!["name"] == name)!;
        var (status, rest) = await gateway.GetAsync("/mcp/tools/list");

        Assert.Equal("a tool field", (string?)rich["x-vendor"]);
        Assert.Equal(HttpStatusCode.OK, status);
        var restRich = JsonNode.Parse(rest)!["tools"]!.AsArray().Single(t => (string?)t!["name"] == "io_cut__rich")!;
        Assert.Equal("a tool field", (string?)restRich["x-vendor"]);
        Assert.Equal("io.cut", (string?)restRich["server"]);
    }

    /// <summary>A resource in resources/list keeps the server's own fields; on /mcp with its server added to _meta; REST's list too.</summary>
    [Theory]
    [MemberData(nameof(ListFaces))]
    [Trait("Issue12", "fidelity")]
    public async Task ResourcesList_KeepsTheServersOwnFieldsOfEachResource(string route, bool dedicated)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.DedicatedUpstreamSessions = dedicated);
        var session = await RawSession.OpenAsync(gateway, path: route);

        var answer = await session.PostAsync("""{"jsonrpc":"2.0","id":2,"method":"resources/list"}""");
        var payload = answer.Payload;
        var emoji = JsonNode.Parse(payload)!["result"]!["resources"]!.AsArray().Single()!;
        var (status, rest) = await gateway.GetAsync("/mcp/resources/list");

        Assert.Equal("a resource field", (string?)emoji["x-vendor"]);
        Assert.Equal("cut://emoji", (string?)emoji["uri"]);
        Assert.Equal(route == "/mcp" ? "io.cut" : null, (string?)emoji["_meta"]?["io.mmcp/server"]);
        Assert.Equal(HttpStatusCode.OK, status);
        var restEmoji = JsonNode.Parse(rest)!["resources"]!.AsArray().Single()!;
        Assert.Equal("a resource field", (string?)restEmoji["x-vendor"]);
        Assert.Equal("io.cut", (string?)restEmoji["server"]);
    }

    /// <summary>The REST face answers the result itself, as the server wrote it.</summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task RestToolsCall_AnswersTheResultAsTheServerWroteIt()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env);

        var (status, body) = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_cut__rich","arguments":{}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var expected = JsonNode.Parse(Rich)!;
        var result = JsonNode.Parse(body)!;
        Assert.True(JsonNode.DeepEquals(expected, result), $"expected {expected.ToJsonString()}\nactual   {result.ToJsonString()}");
    }

    /// <summary>A result the gateway changes is written from what it holds: a tools/list with a tool the user denied leaves that tool out.</summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task ToolsList_WithADeniedTool_IsTheGatewaysOwnWriting()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: "/servers/io.cut/mcp");
        var all = await ToolsAsync(session, 2);
        Assert.Contains(all, t => (string?)t!["name"] == "rich");

        await gateway.Consent.SetToolAsync("io.cut", "rich", Mmcp.Client.Consent.ConsentDecision.Deny, cancellationToken: TestContext.Current.CancellationToken);
        var listed = await ToolsAsync(session, 3);

        Assert.Equal(all.Count - 1, listed.Count);
        Assert.DoesNotContain(listed, t => (string?)t!["name"] == "rich");
    }

    private static async Task<JsonArray> ToolsAsync(RawSession session, int id)
    {
        var answer = await session.PostAsync($$"""{"jsonrpc":"2.0","id":{{id}},"method":"tools/list"}""");
        var payload = answer.Payload;
        return JsonNode.Parse(payload)!["result"]!["tools"]!.AsArray();
    }
}
