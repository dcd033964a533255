using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Mmcp.Client;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Bench;

/// <summary>Discovery of 100 manifests, warm (target ≤ 5 ms), against the floor of reading and parsing the same files.</summary>
[MemoryDiagnoser]
public class DiscoveryBenchmarks
{
    private string _directory = string.Empty;
    private string[] _files = [];
    private ServerRegistry? _registry;
    private MmcpHub? _hub;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("mmcp-bench-").FullName;
        for (var i = 0; i < 100; i++)
        {
            var manifest = new ServerManifest
            {
                Id = $"io.example.server{i:D3}",
                Name = $"Server {i}",
                Description = "A server with a capability snapshot of three tools.",
                Version = "1.0.0",
                Transport = new StdioTransport { Command = "node", Args = ["server.js", "--port", i.ToString(System.Globalization.CultureInfo.InvariantCulture)] },
                Capabilities = new CapabilitySnapshot
                {
                    Tools = [.. Enumerable.Range(0, 3).Select(t => new ModelContextProtocol.Protocol.Tool
                    {
                        Name = $"tool_{t}",
                        Description = "Does something useful with the given path.",
                        InputSchema = JsonDocument.Parse("""{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}""").RootElement,
                    })],
                },
            };
            File.WriteAllBytes(Path.Combine(_directory, manifest.Id + ".json"), ManifestWriter.ToUtf8Bytes(manifest));
        }

        _files = Directory.GetFiles(_directory, "*.json");
        _registry = new ServerRegistry([new ManifestDirectorySource(_directory)]);
        _hub = new MmcpHub(_registry, new MmcpHubOptions { WatchRegistry = false, PersistToolCache = false });
        _registry.RefreshAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _hub!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _registry!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "read + parse 100 files (floor)")]
    public int ReadAndParse()
    {
        var n = 0;
        foreach (var file in _files)
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            n += document.RootElement.ValueKind == JsonValueKind.Object ? 1 : 0;
        }

        return n;
    }

    [Benchmark(Description = "hub.DiscoverServersAsync (100 manifests)")]
    public async Task<int> Discover() => (await _hub!.DiscoverServersAsync()).Servers.Count;
}
