using System.Net;
using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Tests.Fidelity;

/// <summary>A tool result with every kind of content block reaches the client as the server wrote it, on every face and lane.</summary>
public sealed class ContentFidelityTests
{
    /// <summary>What the cut server's tool <c>rich</c> answers (Fidelity/cut-server.mjs), but its field no revision defines.</summary>
    private const string Rich = """
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
          "isError": false
        }
        """;

    public static TheoryData<string, bool> Faces => new()
    {
        { "/mcp", false }, // the direct lane: one JSON body
        { "/mcp", true }, // a progress token: the SDK's lane, an SSE stream
        { "/servers/io.cut/mcp", false },
        { "/servers/io.cut/mcp", true },
    };

    /// <summary>Text, image, audio, resource link and embedded resource blocks, annotations, every <c>_meta</c>, structured content and isError arrive unchanged.</summary>
    [Theory]
    [MemberData(nameof(Faces))]
    [Trait("Issue12", "fidelity")]
    public async Task ToolsCall_EveryKindOfContent_ArrivesAsTheServerWroteIt(string route, bool progress)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Cut("io.cut"));
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: route);
        var tool = route == "/mcp" ? "io_cut__rich" : "rich";
        var meta = progress ? ""","_meta":{"progressToken":"p"}""" : string.Empty;

        var answer = await session.PostAsync($$$"""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"{{{tool}}}","arguments":{}{{{meta}}}}}""");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(progress ? "text/event-stream" : "application/json", answer.ContentType);
        var payload = answer.ContentType == "text/event-stream" ? RawSession.LastSseData(answer.Body) : answer.Body;
        var result = JsonNode.Parse(payload)!["result"]!.AsObject();
        var expected = JsonNode.Parse(Rich)!.AsObject();
        Assert.Equal(Modified(expected), Modified(result)); // the same instant; the SDK writes it as +00:00
        Assert.True(JsonNode.DeepEquals(expected, result), $"expected {expected.ToJsonString()}\nactual   {result.ToJsonString()}");
    }

    /// <summary>The first block's lastModified as an instant, taken out of the result so the rest compares as JSON.</summary>
    private static DateTimeOffset Modified(JsonObject result)
    {
        var annotations = result["content"]![0]!["annotations"]!.AsObject();
        var modified = DateTimeOffset.Parse(annotations["lastModified"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        annotations.Remove("lastModified");
        return modified;
    }
}
