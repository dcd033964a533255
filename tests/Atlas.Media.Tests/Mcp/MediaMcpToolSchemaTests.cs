using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Media.Mcp;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Atlas.Media.Tests.Mcp;

/// <summary>The media server's tools as hubs see them (names and input schemas, as written into its manifest).</summary>
public sealed class MediaMcpToolSchemaTests
{
    /// <summary>The tools built by the Mmcp source generator have the names and input schemas the SDK's reflection gave
    /// them before (the same methods read by <c>McpServerTool.Create</c>, as the media server was built until issue 13).</summary>
    [Fact]
    [Trait("Issue13", "rooms")]
    public void CreateServerTools_Generated_SameNamesAndInputSchemasAsSdkReflection()
    {
        var serializer = new JsonSerializerOptions(McpJsonUtilities.DefaultOptions);
        var reflected = typeof(MediaMcpTools).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttribute<McpServerToolAttribute>() is not null)
            .Select(m => McpServerTool.Create(m, _ => throw new InvalidOperationException("not called"), new McpServerToolCreateOptions { SerializerOptions = serializer }));

        var expected = Describe(reflected);
        var actual = Describe(MediaMcpTools.CreateServerTools());

        Assert.Equal(["analyze", "context", "describe", "frames", "ocr", "transcribe"], actual.Select(t => (string?)t!["name"]));
        Assert.True(JsonNode.DeepEquals(expected, actual), $"Reflection:\n{expected.ToJsonString()}\nGenerated:\n{actual.ToJsonString()}");
    }

    private static JsonArray Describe(IEnumerable<McpServerTool> tools) =>
        new([.. tools
            .Select(t => t.ProtocolTool)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (JsonNode)new JsonObject { ["name"] = t.Name, ["inputSchema"] = JsonNode.Parse(t.InputSchema.GetRawText()) })]);
}
