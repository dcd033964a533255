using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Mmcp.Client.Storage;

namespace Mmcp.Client.Tests.Storage;

/// <summary>Owner-only state files under a real lock file (flock): writers wait for each other without blocking a thread.</summary>
public sealed class PrivateFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mpf-" + Guid.NewGuid().ToString("N")[..10]);

    public PrivateFileTests() => Directory.CreateDirectory(_dir);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Two writers that find the lock held both wait, both complete once it is free, and neither loses the other's update.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task UpdateAsync_TwoWritersContending_BothCompleteWithoutALostUpdate()
    {
        var path = Path.Combine(_dir, "counter.txt");
        const int PerWriter = 25;
        Task first, second;
        using (HoldLock(path))
        {
            first = IncrementAsync(path, PerWriter);
            second = IncrementAsync(path, PerWriter);
            await Task.Yield();
            Assert.False(first.IsCompleted || second.IsCompleted, "a writer wrote while another held the lock");
        }

        await Task.WhenAll(first, second).WaitAsync(TestTimeouts.Default, Ct);

        Assert.Equal((2 * PerWriter).ToString(CultureInfo.InvariantCulture), PrivateFile.Read(path));
    }

    /// <summary>A writer waiting for a held lock stops at once when its token is cancelled (the clock never moves, so only the token can end the wait).</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task UpdateAsync_LockHeldAndTokenCancelled_ThrowsOperationCanceledPromptly()
    {
        var path = Path.Combine(_dir, "state.json");
        using var held = HoldLock(path);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var written = false;

        var update = PrivateFile.UpdateAsync(path, _ => { written = true; return "x"; }, new FakeTimeProvider(), cancel.Token);
        Assert.False(update.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => update.WaitAsync(TestTimeouts.Default, Ct));
        Assert.False(written);
        Assert.Null(PrivateFile.Read(path));
    }

    /// <summary>A lock held past the lock wait by another process fails with an error naming the lock file and that process.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task UpdateAsync_LockHeldByAnotherProcessPastTheWait_NamesTheFileAndTheProcess()
    {
        var path = Path.Combine(_dir, "tokens.json");
        using var holder = Process.Start(new ProcessStartInfo("flock", ["-x", path + ".lock", "-c", "echo locked; exec cat"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct));
            var time = new FakeTimeProvider();

            var update = PrivateFile.UpdateAsync(path, _ => "x", time, Ct);
            while (!update.IsCompleted)
            {
                // Fake time: each step lets the waiting writer retry, until its lock wait (10 s) is over.
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.Yield();
            }

            var error = await Assert.ThrowsAsync<IOException>(() => update);
            Assert.Contains($"'{path}.lock'", error.Message, StringComparison.Ordinal);
            Assert.Contains($"by process {holder.Id} (flock)", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            holder.StandardInput.Close();
            await holder.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);
        }
    }

    /// <summary>The non-waiting update refuses while the lock is held and writes once it is free.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public void TryUpdate_LockHeldThenFree_FalseThenWrites()
    {
        var path = Path.Combine(_dir, "state.json");
        using (HoldLock(path))
        {
            Assert.False(PrivateFile.TryUpdate(path, _ => "held"));
        }

        Assert.True(PrivateFile.TryUpdate(path, _ => "free"));
        Assert.Equal("free", PrivateFile.Read(path));
    }

    /// <summary>Holds the lock as another writer would (an exclusive flock on the lock file).</summary>
    private static FileStream HoldLock(string path) => new(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

    private static async Task IncrementAsync(string path, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await PrivateFile.UpdateAsync(path, text => ((text is null ? 0 : int.Parse(text, CultureInfo.InvariantCulture)) + 1).ToString(CultureInfo.InvariantCulture), timeProvider: null, Ct);
        }
    }
}
