using Mmcp.Client.Consent;

namespace Mmcp.Client.Tests.Consent;

/// <summary>The consent store off the request path: reading decisions never waits for a writer that waits for the file lock.</summary>
public sealed class ConsentStoreBlockingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mcst-" + Guid.NewGuid().ToString("N")[..10]);

    public ConsentStoreBlockingTests() => Directory.CreateDirectory(_dir);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>While a change waits for the file lock (another process writing), a reader gets the decisions at once
    /// (regression: the store held its in-memory lock across the file lock's retry loop, so every reader waited).</summary>
    [Fact]
    [Trait("Issue13", "blocking")]
    public async Task GetServer_WhileAWriterWaitsForTheFileLock_ReturnsWithoutWaiting()
    {
        var path = Path.Combine(_dir, "consent.json");
        var store = new ConsentStore(path);
        store.SetServer("a", ConsentDecision.Allow);

        // Another process holds the file lock; the writer below waits for it.
        var fileLock = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        Task writer;
        try
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            writer = Task.Factory.StartNew(() =>
            {
                started.SetResult();
                store.SetServer("b", ConsentDecision.Deny);
            }, Ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await started.Task.WaitAsync(TestTimeouts.Default, Ct);

            var decision = await Task.Run(() => store.GetServer("a"), Ct).WaitAsync(TestTimeouts.Default, Ct);

            Assert.Equal(ConsentDecision.Allow, decision?.Decision);
            Assert.False(writer.IsCompleted, "the reader returned only after the writer gave up waiting for the file lock");
        }
        finally
        {
            await fileLock.DisposeAsync();
        }

        await writer.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(ConsentDecision.Deny, store.GetServer("b")?.Decision);
    }
}
