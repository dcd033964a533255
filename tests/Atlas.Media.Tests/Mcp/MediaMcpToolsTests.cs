using System.IO.Pipelines;
using System.Text.Json;
using Atlas.Media.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Atlas.Media.Tests.Mcp;

[Trait("Speed", "slow")]
public sealed class MediaMcpToolsTests(MediaFixture media) : IAsyncLifetime
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private PipelineHarness _harness = null!;
    private string _shared = null!;
    private McpServer _server = null!;
    private Task _serverRun = null!;
    private McpClient _client = null!;
    private ServiceProvider _services = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = new PipelineHarness();
        _shared = Path.Combine(_harness.Root, "shared");
        Directory.CreateDirectory(_shared);
        File.Copy(media.TextPng, Path.Combine(_shared, "doc.png"));
        _harness.Options.AllowedRoots.Add(_shared);
        var tools = new MediaMcpTools(_harness.Pipeline, _harness.Options, NullLogger<MediaMcpTools>.Instance);
        var options = new McpServerOptions { ServerInfo = new() { Name = "atlas-media", Version = "1.0" }, ToolCollection = [] };
        foreach (var tool in MediaMcpTools.CreateServerTools())
        {
            options.ToolCollection.Add(tool);
        }

        // The generated tools run on the MediaMcpTools in the server's services.
        _services = new ServiceCollection().AddSingleton(tools).BuildServiceProvider();
        _server = McpServer.Create(new StreamServerTransport(_toServer.Reader.AsStream(), _toClient.Writer.AsStream(), "atlas-media", NullLoggerFactory.Instance), options, NullLoggerFactory.Instance, _services);
        _serverRun = _server.RunAsync(TestContext.Current.CancellationToken);
        _client = await McpClient.CreateAsync(new StreamClientTransport(_toServer.Writer.AsStream(), _toClient.Reader.AsStream(), NullLoggerFactory.Instance), cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        await _services.DisposeAsync();
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

    /// <summary>Regression: an unknown frames mode was an exception without an error code.</summary>
    [Fact]
    [Trait("Issue11", "7")]
    public async Task CallFrames_UnknownMode_IsInvalidRequestError()
    {
        var result = await _client.CallToolAsync("frames", new Dictionary<string, object?> { ["path"] = Path.Combine(_shared, "doc.png"), ["mode"] = "everything" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.IsError);
        Assert.StartsWith("invalid_request: Unknown mode 'everything'", ((TextContentBlock)result.Content[0]).Text, StringComparison.Ordinal);
    }

    /// <summary>The page layout is the caller's choice, and an unknown one is refused with a code.</summary>
    [Fact]
    [Trait("Issue11", "3")]
    public async Task CallOcr_Layout_IsAppliedOrRefusedWhenUnknown()
    {
        var ok = await _client.CallToolAsync("ocr", new Dictionary<string, object?> { ["path"] = Path.Combine(_shared, "doc.png"), ["layout"] = "column" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(true, ok.IsError);
        Assert.Contains("Northwind", ((TextContentBlock)ok.Content[0]).Text, StringComparison.Ordinal);
        var bad = await _client.CallToolAsync("ocr", new Dictionary<string, object?> { ["path"] = Path.Combine(_shared, "doc.png"), ["layout"] = "diagonal" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(bad.IsError);
        Assert.StartsWith("invalid_request:", ((TextContentBlock)bad.Content[0]).Text, StringComparison.Ordinal);
    }

    /// <summary>Regression: a directory said "does not exist"; a FIFO hung the call forever.</summary>
    [Fact]
    [Trait("Issue11", "6")]
    public async Task CallOcr_DirectoryOrFifoInSharedRoot_IsRefusedWithAReason()
    {
        var folder = Path.Combine(_shared, "album");
        Directory.CreateDirectory(folder);
        var fifo = Path.Combine(_shared, "pipe.png");
        await Tools.RunAsync("mkfifo", [fifo]);

        var dir = await _client.CallToolAsync("ocr", new Dictionary<string, object?> { ["path"] = folder }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(dir.IsError);
        Assert.Contains($"'{folder}' is a directory", ((TextContentBlock)dir.Content[0]).Text, StringComparison.Ordinal);

        var pipe = await _client.CallToolAsync("ocr", new Dictionary<string, object?> { ["path"] = fifo }, cancellationToken: TestContext.Current.CancellationToken)
            .AsTask().WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.True(pipe.IsError);
        Assert.StartsWith("invalid_request:", ((TextContentBlock)pipe.Content[0]).Text, StringComparison.Ordinal);
        Assert.Contains("not a regular file", ((TextContentBlock)pipe.Content[0]).Text, StringComparison.Ordinal);
    }

    /// <summary>Errors name the path the caller gave, never the job's private copy.</summary>
    [Fact]
    [Trait("Issue11", "7")]
    public async Task CallAnalyze_CorruptVideo_ErrorNamesCallersPathOnly()
    {
        var ftyp = new byte[] { 0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 2, 0, (byte)'i', (byte)'s', (byte)'o', (byte)'m', (byte)'m', (byte)'p', (byte)'4', (byte)'1' };
        var path = Path.Combine(_shared, "broken.mp4");
        await File.WriteAllBytesAsync(path, [.. ftyp, .. new byte[4000]], TestContext.Current.CancellationToken);
        var result = await _client.CallToolAsync("analyze", new Dictionary<string, object?> { ["path"] = path }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.IsError);
        var text = ((TextContentBlock)result.Content[0]).Text;
        Assert.StartsWith("corrupt_input:", text, StringComparison.Ordinal);
        Assert.DoesNotContain(_harness.Options.WorkDirectory!, text, StringComparison.Ordinal);
        Assert.DoesNotContain("/input", text, StringComparison.Ordinal);
    }
}
