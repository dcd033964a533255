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
        await store.SetServerAsync("a", ConsentDecision.Allow, Ct);

        // Another process holds the file lock; the writer below waits for it.
        var fileLock = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        Task writer;
        try
        {
            writer = store.SetServerAsync("b", ConsentDecision.Deny, Ct);

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

    /// <summary>Evaluating a tool seen for the first time (trust on first use pins it) never waits for the file lock:
    /// while another process holds it, the verdict comes at once and the pin is written when the lock is free.</summary>
    [Fact]
    [Trait("Issue13", "blocking")]
    public async Task Evaluate_FirstSightWhileTheFileLockIsHeld_ReturnsAllowedWithoutWaiting()
    {
        var path = Path.Combine(_dir, "consent.json");
        var store = new ConsentStore(path);
        var tool = new ModelContextProtocol.Protocol.Tool { Name = "echo", InputSchema = System.Text.Json.JsonDocument.Parse("""{"type":"object"}""").RootElement };

        ToolConsent verdict;
        await using (new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            verdict = await Task.Run(() => store.Evaluate("a", tool), Ct).WaitAsync(TestTimeouts.Default, Ct);
        }

        Assert.Equal(ToolConsentStatus.Allowed, verdict.Status);

        // The pin left for later is written once the lock is free: a second store (another process) reads it from the
        // file (regression: the test ended while the background write was still going and could not delete its folder).
        await store.WhenPinsWrittenAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);
        var entry = Assert.Single(new ConsentStore(path).List().Tools);
        Assert.Equal(("a", "echo", ConsentStore.ComputeHash(tool)), (entry.ServerId, entry.ToolName, entry.PinnedHash));
        Assert.True(store.Evaluate("a", tool).IsAllowed);
    }

    /// <summary>Disposing the store (the hub stopping) writes a pin still waiting for the file lock instead of losing it,
    /// which would let a changed tool be trusted afresh on the next start.</summary>
    [Fact]
    [Trait("Issue13", "blocking")]
    public async Task DisposeAsync_WithAPinWaitingForTheFileLock_WritesItOnceTheLockIsFree()
    {
        var path = Path.Combine(_dir, "consent.json");
        var store = new ConsentStore(path);
        var tool = new ModelContextProtocol.Protocol.Tool { Name = "echo", InputSchema = System.Text.Json.JsonDocument.Parse("""{"type":"object"}""").RootElement };

        ValueTask disposing;
        await using (new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            Assert.True(store.Evaluate("a", tool).IsAllowed);
            disposing = store.DisposeAsync();
            Assert.False(disposing.IsCompleted, "disposal returned while the pin was still waiting for the file lock");
        }

        await disposing.AsTask().WaitAsync(TestTimeouts.Default, Ct);
        Assert.Single(new ConsentStore(path).List().Tools);
    }
}
