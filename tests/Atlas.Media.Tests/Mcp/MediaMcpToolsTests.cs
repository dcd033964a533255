using System.IO.Pipelines;
using System.Text.Json;
using Atlas.Media.Mcp;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Atlas.Media.Tests.Mcp;

public sealed class MediaMcpToolsTests(MediaFixture media) : IAsyncLifetime
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private PipelineHarness _harness = null!;
    private string _shared = null!;
    private McpServer _server = null!;
    private Task _serverRun = null!;
    private McpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = new PipelineHarness();
        _shared = Path.Combine(_harness.Root, "shared");
        Directory.CreateDirectory(_shared);
        File.Copy(media.TextPng, Path.Combine(_shared, "doc.png"));
        _harness.Options.AllowedRoots.Add(_shared);
        var tools = new MediaMcpTools(_harness.Pipeline, _harness.Options, NullLogger<MediaMcpTools>.Instance);
        var options = new McpServerOptions { ServerInfo = new() { Name = "atlas-media", Version = "1.0" }, ToolCollection = [] };
        foreach (var tool in MediaMcpTools.CreateServerTools(tools))
        {
            options.ToolCollection.Add(tool);
        }

        _server = McpServer.Create(new StreamServerTransport(_toServer.Reader.AsStream(), _toClient.Writer.AsStream(), "atlas-media", NullLoggerFactory.Instance), options);
        _serverRun = _server.RunAsync(TestContext.Current.CancellationToken);
        _client = await McpClient.CreateAsync(new StreamClientTransport(_toServer.Writer.AsStream(), _toClient.Reader.AsStream(), NullLoggerFactory.Instance), cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        await _harness.DisposeAsync();
    }

    [Fact]
    public async Task ListTools_ExposesEveryTaskAsReadOnlyTool()
    {
        var tools = await _client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(["analyze", "context", "describe", "frames", "ocr", "transcribe"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(tools, t => Assert.True(t.ProtocolTool.Annotations?.ReadOnlyHint));
    }

    [Fact]
    public async Task CallOcr_FileInSharedRoot_ReturnsText()
    {
        var result = await _client.CallToolAsync("ocr", new Dictionary<string, object?> { ["path"] = Path.Combine(_shared, "doc.png") }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(true, result.IsError);
        var json = JsonDocument.Parse(((TextContentBlock)result.Content[0]).Text);
        Assert.Contains("Northwind", json.RootElement.GetProperty("ocr").GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallOcr_FileOutsideSharedRoots_IsDenied()
    {
        var result = await _client.CallToolAsync("ocr", new Dictionary<string, object?> { ["path"] = media.TextPng }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.IsError);
        Assert.Contains("access_denied", ((TextContentBlock)result.Content[0]).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallOcr_SymlinkEscapingSharedRoot_IsDenied()
    {
        var link = Path.Combine(_shared, "escape.png");
        File.CreateSymbolicLink(link, media.TextPng);
        var viaDotDot = _shared + "/../../" + Path.GetRelativePath("/", media.TextPng);
        foreach (var path in new[] { link, viaDotDot, _shared + "-evil/doc.png" })
        {
            var result = await _client.CallToolAsync("analyze", new Dictionary<string, object?> { ["path"] = path }, cancellationToken: TestContext.Current.CancellationToken);
            Assert.True(result.IsError, path);
        }
    }

    [Fact]
    public async Task CallContext_ReturnsPlainTextCard()
    {
        var result = await _client.CallToolAsync("context", new Dictionary<string, object?> { ["path"] = Path.Combine(_shared, "doc.png") }, cancellationToken: TestContext.Current.CancellationToken);
        var text = ((TextContentBlock)result.Content[0]).Text;
        Assert.StartsWith("[Media: doc.png", text, StringComparison.Ordinal);
    }
}
