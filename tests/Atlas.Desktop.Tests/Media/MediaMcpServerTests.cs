using System.Diagnostics;
using ImageMagick;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol.Protocol;

namespace Atlas.Desktop.Tests.Media;

/// <summary>
/// <c>atlas media-mcp</c> as any LLM app on the computer meets it: registered by the CLI, discovered and listed by the
/// Mmcp hub from its manifest, started on demand by the hub, then called over its socket.
/// </summary>
[Trait("Speed", "slow")]
public sealed class MediaMcpServerTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("amm-").FullName;
    private string Registry => Path.Combine(_root, "reg");
    private string Runtime => Path.Combine(_root, "run");
    private string Data => Path.Combine(_root, "data");
    private string Allowed => Path.Combine(_root, "pictures");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Allowed);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        // The hub started the server detached (it outlives hubs by design): stop every process of this test's tree.
        foreach (var pid in ProcessesMentioning(_root))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
            catch (ArgumentException)
            {
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task RegisteredByTheCli_ListedFromTheManifest_LaunchedOnDemand_ThenCalled()
    {
        Assert.Equal(0, await AtlasAsync("--data-dir", Data, "media-mcp", "--allow", Allowed, "--mmcp-register"));
        var manifest = ManifestReader.ReadFile(Path.Combine(Registry, "io.mmcp.atlas.media.json"));
        Assert.True(manifest.IsValid, string.Join("\n", manifest.Diagnostics));
        Assert.Contains("media-mcp", manifest.Manifest!.Launch!.Args);
        var picture = Path.Combine(Allowed, "sign.png");
        RenderText(picture, "OPENING HOURS", "MONDAY TO FRIDAY");
        var outside = Path.Combine(_root, "outside.png");
        File.Copy(picture, outside);

        await using var hub = MmcpHub.Create(new MmcpHubOptions
        {
            Registry = new RegistryOptions
            {
                Environment = new MmcpEnvironment(n => n switch { "MMCP_REGISTRY_PATH" => Registry, "MMCP_RUNTIME_DIR" => Runtime, _ => Environment.GetEnvironmentVariable(n) }, _root),
                ImportClientConfigs = false,
            },
            WatchRegistry = false,
            CacheDirectory = Path.Combine(_root, "cache"),
            LaunchTimeout = TestTimeouts.Default,
        });
        var tools = await hub.ListToolsAsync("io.mmcp.atlas.media", Ct);
        var ocr = await hub.CallToolAsync("io.mmcp.atlas.media", "ocr", new Dictionary<string, object?> { ["path"] = picture }, cancellationToken: Ct);
        var refused = await hub.CallToolAsync("io.mmcp.atlas.media", "ocr", new Dictionary<string, object?> { ["path"] = outside }, cancellationToken: Ct);

        Assert.Contains("io_mmcp_atlas_media__ocr", tools.Tools.Select(t => t.Name));
        Assert.Contains(tools.Tools, t => t.ToolName == "transcribe");
        Assert.NotEqual(true, ocr.IsError);
        var text = string.Concat(ocr.Content.OfType<TextContentBlock>().Select(c => c.Text));
        Assert.Contains("OPENING HOURS", text, StringComparison.Ordinal);
        Assert.True(refused.IsError);
        Assert.Contains("access_denied", string.Concat(refused.Content.OfType<TextContentBlock>().Select(c => c.Text)), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Runtime, "io.mmcp.atlas.media.sock")), "the hub started the server on demand");
    }

    private async Task<int> AtlasAsync(params string[] args)
    {
        var atlas = Path.Combine(AppContext.BaseDirectory, "atlas.dll");
        var start = new ProcessStartInfo("dotnet", [atlas, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["MMCP_REGISTRY_PATH"] = Registry;
        start.Environment["MMCP_RUNTIME_DIR"] = Runtime;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.StandardOutput.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        TestContext.Current.TestOutputHelper?.WriteLine(await stderr);
        return process.ExitCode;
    }

    private static void RenderText(string path, params string[] lines)
    {
        var settings = new MagickReadSettings { Font = "DejaVu-Sans", FontPointsize = 40, BackgroundColor = MagickColors.White, FillColor = MagickColors.Black };
        using var image = new MagickImage("label:" + string.Join('\n', lines), settings);
        image.BorderColor = MagickColors.White;
        image.Border(40);
        image.Write(path, MagickFormat.Png);
    }

    private static IEnumerable<int> ProcessesMentioning(string text)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (cmdline.Contains(text, StringComparison.Ordinal))
            {
                yield return pid;
            }
        }
    }
}
