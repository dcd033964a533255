using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Atlas.Client;
using Atlas.Client.Pairing;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

/// <summary>kill -9 of a real <c>atlas serve</c> process in the middle of a file write leaves the old file (never a
/// mix), and the next start removes the half-written temporary.</summary>
[Trait("Speed", "slow")]
public sealed partial class CrashSafetyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillDuringWrite_LeavesOldFile_AndRestartCleansTemporaries()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "atl-kill-" + Guid.NewGuid().ToString("N")[..8]);
        var (first, link) = await StartServeAsync(dataDir);
        string deviceId;
        try
        {
            var credentials = await AtlasClient.PairAsync(link, "crash", "dotnet", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct);
            deviceId = credentials.DeviceId;
            using var client = new AtlasClient(credentials, AtlasTestHost.ClientOptions());
            using (var old = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=doc.txt")
            { Content = new StringContent("old content") }, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, old.StatusCode);
            }

            var root = Path.Combine(dataDir, "files", deviceId);
            using var watcher = new FileSystemWatcher(root, DevicePath() + "*") { EnableRaisingEvents = true };
            var tempSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            watcher.Created += (_, _) => tempSeen.TrySetResult();
            watcher.Changed += (_, _) => tempSeen.TrySetResult();
            var body = new EndlessContent();
            var write = client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=doc.txt&overwrite=true") { Content = body }, Ct);
            await tempSeen.Task.WaitAsync(TestTimeouts.Default, Ct);
            await body.Written.Task.WaitAsync(TestTimeouts.Default, Ct);

            first.Kill(entireProcessTree: true); // SIGKILL: no shutdown code runs
            await first.WaitForExitAsync(Ct);
            await body.Hang.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => write);

            Assert.Equal("old content", await File.ReadAllTextAsync(Path.Combine(root, "doc.txt"), Ct));
            Assert.NotEmpty(Directory.GetFiles(root, DevicePath() + "*"));
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill(entireProcessTree: true);
            }

            first.Dispose();
        }

        var (second, _) = await StartServeAsync(dataDir);
        try
        {
            var root = Path.Combine(dataDir, "files", deviceId);
            Assert.Equal(["doc.txt"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName).ToArray());
            Assert.Equal("old content", await File.ReadAllTextAsync(Path.Combine(root, "doc.txt"), Ct));
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync(Ct);
            second.Dispose();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static string DevicePath() => Atlas.Desktop.Files.DevicePath.TempPrefix;

    private static async Task<(Process Process, PairingLink Link)> StartServeAsync(string dataDir)
    {
        var atlas = typeof(AtlasApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { atlas, "serve", "--data-dir", dataDir, "--port", "0", "--Atlas:Network:Lan=false", "--Atlas:Pairing:Approval=auto" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var link = new TaskCompletionSource<PairingLink>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && PairUrl().Match(line) is { Success: true } match)
            {
                link.TrySetResult(PairingLink.Parse(match.Value));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.Exited += (_, _) => link.TrySetException(new InvalidOperationException($"atlas serve exited with {process.ExitCode}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, await link.Task.WaitAsync(TestTimeouts.Default, Ct));
    }

    [GeneratedRegex(@"https://\S+/pair#\S+")]
    private static partial Regex PairUrl();

    /// <summary>A request body that sends 1 MiB, reports it, and then never ends (the phone hangs mid-upload).</summary>
    private sealed class EndlessContent : HttpContent
    {
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Hang { get; } = new();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = Encoding.ASCII.GetBytes(new string('n', 64 * 1024));
            for (var i = 0; i < 16; i++)
            {
                await stream.WriteAsync(chunk);
            }

            await stream.FlushAsync();
            Written.TrySetResult();
            await Task.Delay(Timeout.Infinite, Hang.Token);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
