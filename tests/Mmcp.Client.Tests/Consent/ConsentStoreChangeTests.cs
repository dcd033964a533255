using Mmcp.Client.Consent;

namespace Mmcp.Client.Tests.Consent;

/// <summary>Changes another process makes to the decisions are seen by a running store, whatever the file's timestamp shows.</summary>
public sealed class ConsentStoreChangeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mcsc-" + Guid.NewGuid().ToString("N")[..10]);

    public ConsentStoreChangeTests() => Directory.CreateDirectory(_dir);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// The user allows one server and denies another, then swaps the two with the CLI within one tick of the file
    /// system's clock (a jiffy on Linux before 6.13): the file keeps its time and its length. A gateway that read the
    /// first version must still see the swap (regression: it kept the first version for as long as the file did not
    /// change again, so the denied server stayed allowed).
    /// </summary>
    [Fact]
    [Trait("Leftovers", "stamp")]
    public async Task GetServer_AChangeThatKeepsTheFilesTimeAndLength_IsSeen()
    {
        var path = Path.Combine(_dir, "consent.json");
        var cli = new ConsentStore(path);
        var gateway = new ConsentStore(path);

        // One tick for both writes: ahead of the clock, so however slow the machine, the reads fall within it.
        var tick = TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(1);
        await cli.SetServerAsync("a", ConsentDecision.Allow, Ct);
        await cli.SetServerAsync("b", ConsentDecision.Deny, Ct);
        File.SetLastWriteTimeUtc(path, tick);
        var length = new FileInfo(path).Length;
        Assert.Equal(ConsentDecision.Allow, gateway.GetServer("a")?.Decision);

        await cli.SetServerAsync("a", ConsentDecision.Deny, Ct);
        await cli.SetServerAsync("b", ConsentDecision.Allow, Ct);
        File.SetLastWriteTimeUtc(path, tick);
        Assert.Equal(length, new FileInfo(path).Length);

        Assert.Equal(ConsentDecision.Deny, gateway.GetServer("a")?.Decision);
        Assert.False(gateway.Evaluate("a", new ModelContextProtocol.Protocol.Tool { Name = "echo", InputSchema = System.Text.Json.JsonDocument.Parse("""{"type":"object"}""").RootElement }).IsAllowed);
    }
}
