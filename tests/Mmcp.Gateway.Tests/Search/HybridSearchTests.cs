using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Mmcp.Core.Manifests;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Search;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.Search;

/// <summary>Hybrid tool search (BM25 + local ArcticXs embeddings): the requests issue 12 found missed, and the embedding cache.</summary>
[Trait("Speed", "slow")]
public sealed class HybridSearchTests
{
    /// <summary>The requests BM25 alone missed find their tools in the top 3, through the real gateway over the real reference servers.</summary>
    [Theory]
    [Trait("Issue12", "7")]
    [InlineData("remember that Alice likes tea", new[] { "local_memory__create_entities", "local_memory__add_observations" })]
    [InlineData("create a new folder", new[] { "local_files__create_directory" })]
    public async Task SearchTools_IssueRequestsOverReferenceServers_RankTheRightToolInTopThree(string query, string[] expected)
    {
        using var env = new TestEnvironment();
        var files = Directory.CreateDirectory(Path.Combine(env.Root, "files")).FullName;
        await env.WriteManifestAsync(Servers.Everything("local.everything"));
        await env.WriteManifestAsync(Servers.Manifest("local.files", new StdioTransport { Command = "node", Args = [NpmServers.Script("server-filesystem"), files] }));
        await env.WriteManifestAsync(Servers.Manifest("local.memory", new StdioTransport { Command = "node", Args = [NpmServers.Script("server-memory")], Env = new Dictionary<string, string> { ["MEMORY_FILE_PATH"] = Path.Combine(env.Root, "memory.jsonl") } }));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.ToolMode = GatewayToolMode.Search);
        await using var client = await gateway.ConnectAsync();
        var ct = TestContext.Current.CancellationToken;

        var found = await client.CallToolAsync("search_tools", new Dictionary<string, object?> { ["query"] = query, ["limit"] = 3 }, cancellationToken: ct);
        var names = found.StructuredContent!.Value.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();

        Assert.True(names.Intersect(expected).Any(), $"'{query}' ranked {string.Join(", ", names)}; expected one of {string.Join(", ", expected)}.");
    }

    /// <summary>An unchanged definition is embedded once (in memory and across a restart through the cache file); a changed one is embedded again.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public async Task PrepareAsync_UnchangedDefinition_ReusesCache_ChangedDefinition_Recomputes()
    {
        using var env = new TestEnvironment();
        var ct = TestContext.Current.CancellationToken;
        var path = Path.Combine(env.Root, "cache", ToolSearchEngine.CacheFileName);
        var embedder = new ArcticXsToolEmbedder();
        using var _ = embedder;
        (string, Tool) Tool(string name, string description) => (name, new Tool { Name = name.Split("__")[1], Description = description, InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement.Clone() });
        (string, Tool)[] tools = [Tool("fs__create_directory", "Create a new directory."), Tool("fs__read_file", "Read a file.")];

        var first = new ToolSearchEngine(embedder, new ToolEmbeddingCache(path, embedder.ModelId, embedder.Dimensions, NullLogger.Instance));
        await first.PrepareAsync(tools, ct);
        var computedFirst = first.Cache!.Computed;
        await first.PrepareAsync(tools, ct);
        var computedAgain = first.Cache.Computed;

        var restarted = new ToolSearchEngine(embedder, new ToolEmbeddingCache(path, embedder.ModelId, embedder.Dimensions, NullLogger.Instance));
        await restarted.PrepareAsync(tools, ct);
        var computedAfterRestart = restarted.Cache!.Computed;
        await restarted.PrepareAsync([tools[0], Tool("fs__read_file", "Read the complete contents of a file.")], ct);
        var computedAfterChange = restarted.Cache.Computed;

        Assert.True(computedFirst > 0);
        Assert.Equal(computedFirst, computedAgain);
        Assert.Equal(0, computedAfterRestart);
        Assert.Equal(1, computedAfterChange);
    }

    /// <summary>Without embeddings (the option off, or no model) the search is BM25 alone and still finds word matches.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public async Task SearchAsync_WithoutEmbeddings_RanksWithBm25()
    {
        var tool = new CatalogTool("fs__read_text_file", "fs", new Tool { Name = "read_text_file", Description = "Read a text file.", InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement.Clone() }, "h");
        var engine = new ToolSearchEngine(embedder: null, cache: null);

        var hits = await engine.SearchAsync([tool], "read a text file", 3, TestContext.Current.CancellationToken);

        Assert.False(engine.UsesEmbeddings);
        Assert.Equal("fs__read_text_file", Assert.Single(hits).Tool.Name);
    }
}
