using System.Text.Json;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Search;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.Search;

/// <summary>The meta-tool mode (search_tools + call_tool) and its BM25 index.</summary>
public sealed class SearchToolsTests
{
    [Fact]
    public async Task SearchMode_ListsOnlyMetaTools_FindsAndCallsATool()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.ToolMode = GatewayToolMode.Search);
        await using var client = await gateway.ConnectAsync();
        var ct = TestContext.Current.CancellationToken;

        var tools = await client.ListToolsAsync(cancellationToken: ct);
        var found = await client.CallToolAsync("search_tools", new Dictionary<string, object?> { ["query"] = "add two integers", ["limit"] = 3 }, cancellationToken: ct);
        var first = found.StructuredContent!.Value.GetProperty("tools")[0];
        var called = await client.CallToolAsync("call_tool", new Dictionary<string, object?> { ["name"] = first.GetProperty("name").GetString(), ["arguments"] = new Dictionary<string, object?> { ["a"] = 40, ["b"] = 2 } }, cancellationToken: ct);

        Assert.Equal(["call_tool", "search_tools"], tools.Select(t => t.Name).Order());
        Assert.Equal("io_test_alpha__add", first.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Object, first.GetProperty("inputSchema").ValueKind);
        Assert.Equal("42", ((TextContentBlock)called.Content[0]).Text);
    }

    /// <summary>call_tool takes the tool's arguments as a direct tools/call does: an object or none; anything else is
    /// -32602 (regression: "x" was dropped and the tool called without arguments).</summary>
    [Fact]
    public async Task SearchMode_CallToolWithArgumentsNotAnObject_IsInvalidParams()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.ToolMode = GatewayToolMode.Search);
        await using var client = await gateway.ConnectAsync();
        var ct = TestContext.Current.CancellationToken;

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("call_tool", new Dictionary<string, object?> { ["name"] = "io_test_alpha__echo", ["arguments"] = "x" }, cancellationToken: ct).AsTask());
        var none = await client.CallToolAsync("call_tool", new Dictionary<string, object?> { ["name"] = "io_test_alpha__echo", ["arguments"] = null }, cancellationToken: ct);

        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("'arguments' as an object", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(none); // null arguments are none, as on tools/call
    }

    [Fact]
    public void Bm25_RanksNameAndSchemaMatchesFirst()
    {
        CatalogTool Tool(string name, string description, string schema) =>
            new(name, "s", new Tool { Name = name, Description = description, InputSchema = JsonDocument.Parse(schema).RootElement.Clone() }, "h");
        var index = new ToolSearchIndex(
        [
            Tool("fs__read_text_file", "Read the complete contents of a file as text.", """{"type":"object","properties":{"path":{"type":"string"}}}"""),
            Tool("fs__write_file", "Create a new file or overwrite an existing one.", """{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}}}"""),
            Tool("weather__forecast", "Weather forecast for a city.", """{"type":"object","properties":{"city":{"type":"string","description":"City name"}}}"""),
        ]);

        Assert.Equal("fs__read_text_file", index.Search("read a text file", 3)[0].Tool.Name);
        Assert.Equal("weather__forecast", index.Search("city", 3)[0].Tool.Name);
        Assert.Equal("fs__write_file", index.Search("overwrite content", 3)[0].Tool.Name);
        Assert.Empty(index.Search("kubernetes", 3));
        Assert.Equal(["get", "file", "content", "http"], ToolSearchIndex.Tokenize("getFileContents HTTP a").ToArray());
    }
}
