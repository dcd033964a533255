using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Atlas.Desktop.Tests.Infrastructure;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Atlas.Desktop.Tests.Mcp;

/// <summary>Issue 14 part 3 with nothing in-process: a real <c>atlas serve</c> process (its own data directory, loopback,
/// server-everything in its registry) and a second machine's <c>mmcp</c> (its own home, config and registry), both driven
/// only through their command lines, as a user would: <c>atlas pair</c>, <c>mmcp remote add</c>, <c>atlas devices
/// permissions</c>, <c>mmcp tools</c> / <c>call</c>, <c>atlas devices revoke</c>.</summary>
[Trait("Speed", "slow")]
public sealed class RemoteMcpServeProcessTests
{
    private const string RemoteId = "atlas.test-desktop";
    private const string LocalServer = "io.github.local";
    private const string LocalEcho = "io_github_local__echo";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A hub paired to a real <c>atlas serve</c> lists the desktop's tools next to its own and calls one; after
    /// <c>atlas devices revoke</c> the next call exits non-zero with a message that names the revocation and how to pair again.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task AtlasServeProcess_PairedMmcpCallsADesktopTool_AndAfterRevokeFailsWithPairAgain()
    {
        await using var desktop = await AtlasServe.StartAsync();
        using var machine = new RemoteMcpEndToEndTests.MmcpMachine();
        await WriteEverythingManifestAsync(machine.Sandbox.RegistryDirectory, LocalServer);

        var pair = JsonDocument.Parse(await desktop.RunAsync("pair", "--json")).RootElement;
        var added = await machine.RunAsync("remote", "add", pair.GetProperty("url").GetString()!, "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        var deviceId = JsonDocument.Parse(added.Stdout).RootElement.GetProperty("deviceId").GetString()!;
        Assert.Contains(deviceId, await desktop.RunAsync("devices", "list"), StringComparison.Ordinal);
        await desktop.RunAsync("devices", "permissions", deviceId, "--set", "tools");

        var tools = await machine.RunAsync("tools", "--json");
        Assert.True(tools.ExitCode == 0, tools.ToString());
        Assert.Contains(DeviceMcpTests.Echo, tools.Stdout, StringComparison.Ordinal);
        Assert.Contains(LocalEcho, tools.Stdout, StringComparison.Ordinal);
        var call = await machine.RunAsync("call", RemoteId, DeviceMcpTests.Echo, "--args", """{"message":"from another machine"}""");
        Assert.True(call.ExitCode == 0, call.ToString());
        Assert.Contains("Echo: from another machine", call.Stdout, StringComparison.Ordinal);

        var revoked = JsonDocument.Parse(await desktop.RunAsync("devices", "revoke", deviceId, "--json")).RootElement;
        Assert.Equal(deviceId, revoked.GetProperty("deviceId").GetString());

        var refused = await machine.RunAsync("call", RemoteId, DeviceMcpTests.Echo, "--args", """{"message":"again"}""");
        Assert.True(refused.ExitCode == 9, refused.ToString());
        Assert.True(refused.Stderr.Contains("revoked this device; pair again with mmcp remote add <pairing-url>", StringComparison.Ordinal), refused.ToString());
        Assert.True(refused.Stderr.Contains($"mmcp remote remove {RemoteId}", StringComparison.Ordinal), refused.ToString());
        var local = await machine.RunAsync("call", LocalServer, "echo", "--args", """{"message":"still here"}""");
        Assert.True(local.ExitCode == 0, local.ToString());

        // The tool list the machine keeps from before (in memory and in its cache) is not a permission: a revoked
        // desktop's tools are not listed any more, and the listing says why and how to pair again.
        var after = await machine.RunAsync("tools", "--json");
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.DoesNotContain(DeviceMcpTests.Echo, after.Stdout, StringComparison.Ordinal);
        Assert.Contains(LocalEcho, after.Stdout, StringComparison.Ordinal);
        Assert.Contains("revoked this device", after.Stdout, StringComparison.Ordinal);
        var strict = await machine.RunAsync("tools", "--strict");
        Assert.True(strict.ExitCode == 8, strict.ToString());
        Assert.DoesNotContain(DeviceMcpTests.Echo, strict.Stdout, StringComparison.Ordinal);
    }

    private static Task WriteEverythingManifestAsync(string registry, string id) =>
        ManifestWriter.WriteFileAsync(
            new ServerManifest
            {
                Id = id,
                Name = "Everything",
                Description = "The MCP reference test server",
                Version = "1.0.0",
                Transport = new StdioTransport { Command = "node", Args = [NpmServers.Script("server-everything"), "stdio"] },
            },
            RegistryPaths.GetManifestPath(registry, id),
            Ct);

    /// <summary>The built <c>atlas serve</c> as a child process in a temporary data directory; other <c>atlas</c> commands
    /// reach it through its control socket.</summary>
    private sealed class AtlasServe : IAsyncDisposable
    {
        private const string LastStartupLine = "Phones waiting for approval show up here";
        private static readonly string Atlas = Path.Combine(AppContext.BaseDirectory, "atlas.dll");
        private readonly Process _process;
        private readonly string _dataDir;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly List<string> _seen = [];
        private readonly Task<string> _stderr;
        private readonly Task _pump;

        private AtlasServe(Process process, string dataDir)
        {
            _process = process;
            _dataDir = dataDir;
            _stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            _pump = PumpAsync();
        }

        public static async Task<AtlasServe> StartAsync()
        {
            var dataDir = AtlasTestHost.NewDataDir();
            var registry = Path.Combine(dataDir, "registry");
            Directory.CreateDirectory(registry);
            await WriteEverythingManifestAsync(registry, DeviceMcpTests.Server);
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
            };
            foreach (var argument in new[]
            {
                Atlas, "serve", "--data-dir", dataDir, "--port", "0", "--Atlas:Network:Lan=false", "--Atlas:Pairing:Approval=auto",
                "--Atlas:Name=Test desktop", "--Atlas:Hub:ImportClientConfigs=false", $"--Atlas:Hub:RegistryDirectories:0={registry}",
                $"--Atlas:Hub:ConsentFile={dataDir}/consent.json", "--Atlas:Media:RegisterMcpServer=false", "--Atlas:Notifications:Desktop=false",
            })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment.Remove("OPENROUTER_API_KEY");
            var serve = new AtlasServe(Process.Start(start)!, dataDir);
            await serve.WaitForLineAsync(l => l.Contains(LastStartupLine, StringComparison.Ordinal));
            return serve;
        }

        private async Task PumpAsync()
        {
            while (await _process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                _lines.Writer.TryWrite(line);
            }

            _lines.Writer.TryComplete();
        }

        private async Task WaitForLineAsync(Func<string, bool> match)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TestTimeouts.Default);
            try
            {
                while (await _lines.Reader.WaitToReadAsync(timeout.Token))
                {
                    while (_lines.Reader.TryRead(out var line))
                    {
                        _seen.Add(line);
                        if (match(line))
                        {
                            return;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
            }

            throw new Xunit.Sdk.XunitException($"atlas serve did not get ready. Output:\n{string.Join('\n', _seen)}\n"
                + (_process.HasExited ? await _stderr : ""));
        }

        /// <summary>Runs another <c>atlas</c> command against this instance; it must succeed; returns its stdout.</summary>
        public async Task<string> RunAsync(params string[] args)
        {
            var start = new ProcessStartInfo("dotnet", [Atlas, .. args, "--data-dir", _dataDir])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync(Ct);
            var error = process.StandardError.ReadToEndAsync(Ct);
            try
            {
                await process.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            Assert.True(process.ExitCode == 0, $"atlas {string.Join(' ', args)} exited {process.ExitCode}: {await error}");
            return await output;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync(CancellationToken.None);
            await _pump;
            await _stderr;
            _process.Dispose();
            try
            {
                Directory.Delete(_dataDir, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }
}
