using System.Text;
using Mmcp.Core.Manifests;

namespace Mmcp.Client.Tests.Discovery;

/// <summary>Malformed, incomplete and hostile manifests are reported, and discovery carries on with the rest.</summary>
[Trait("Speed", "slow")]
public sealed class ManifestRobustnessTests : IDisposable
{
    private readonly TestEnvironment _env = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _env.Dispose();

    [Fact]
    public async Task Discover_BadManifestsBesideAGoodOne_ReportsThemAndServesTheGoodOne()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.good"));
        await Write("broken.json", "{ \"id\": \"io.example.broken\", ");
        await Write("missing.json", """{ "manifestVersion": 1, "id": "io.example.missing", "name": "Missing", "version": "1" }""");
        await Write("evil.json", """{ "manifestVersion": 1, "id": "../../etc/passwd", "name": "x", "description": "x", "version": "1", "transport": { "type": "stdio", "command": "sh" } }""");
        await Write("deep.json", new string('[', 5000) + new string(']', 5000));
        await Write("huge.json", "{\"id\":\"" + new string('a', 2 << 20) + "\"}");
        await File.WriteAllBytesAsync(Path.Combine(_env.RegistryDirectory, "binary.json"), [0xFF, 0xFE, 0x00, 0x01, 0x80], Ct);
        await using var hub = _env.CreateHub();

        var discovery = await hub.DiscoverServersAsync(Ct);

        Assert.Equal("io.example.good", Assert.Single(discovery.Servers).Id);
        var files = discovery.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => Path.GetFileName(d.File)).Distinct().Order().ToList();
        Assert.Equal(["binary.json", "broken.json", "deep.json", "evil.json", "huge.json", "missing.json"], files);
        Assert.Contains(discovery.Diagnostics, d => d.File.EndsWith("missing.json", StringComparison.Ordinal) && (d.Field + d.Message).Contains("transport", StringComparison.Ordinal));
        Assert.Equal("echo: ok", HubToolResults.GetText(await hub.CallToolAsync("io.example.good", "echo", new Dictionary<string, object?> { ["text"] = "ok" }, cancellationToken: Ct)));
    }

    [Fact]
    public async Task CallTool_ServerWhoseManifestIsInvalid_SaysSoInsteadOfUnknown()
    {
        await Write("io.example.broken.json", "{ \"id\": \"io.example.broken\" }");
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("io.example.broken", "echo", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.UnknownServer, error.Code);
        Assert.Contains("found but is invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discover_ManifestAddedLater_IsSeenByTheNextDiscovery()
    {
        await using var hub = _env.CreateHub();
        Assert.Empty((await hub.DiscoverServersAsync(Ct)).Servers);
        var changed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.ServersChanged += (_, e) => changed.TrySetResult(string.Join(",", e.Added));

        await _env.WriteManifestAsync(Servers.Stdio("io.example.late"));
        var discovery = await hub.DiscoverServersAsync(Ct);

        Assert.Equal("io.example.late", Assert.Single(discovery.Servers).Id);
        Assert.Equal("io.example.late", await changed.Task.WaitAsync(TestTimeouts.Default, Ct));
    }

    [Fact]
    public async Task Watch_ManifestRemoved_TheServerDisappearsAndItsConnectionCloses()
    {
        await _env.WriteManifestAsync(Servers.Stdio("io.example.gone"));
        await using var hub = _env.CreateHub(o => o.WatchRegistry = true);
        await hub.CallToolAsync("io.example.gone", "pid", cancellationToken: Ct);
        var removed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.ServersChanged += (_, e) =>
        {
            if (e.Removed.Count > 0)
            {
                removed.TrySetResult(e.Removed[0]);
            }
        };

        File.Delete(Path.Combine(_env.RegistryDirectory, "io.example.gone.json"));

        Assert.Equal("io.example.gone", await removed.Task.WaitAsync(TestTimeouts.Default, Ct));
        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("io.example.gone", "pid", cancellationToken: Ct).AsTask());
        Assert.Equal(HubErrorCode.UnknownServer, error.Code);
    }

    [Fact]
    public async Task Discover_ManifestRedefined_TheNextCallFollowsTheNewDefinition()
    {
        await _env.WriteManifestAsync(Servers.Manifest("io.example.moving", new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "stdio"], Env = new Dictionary<string, string> { ["FLAVOUR"] = "old" } }));
        await using var hub = _env.CreateHub();
        var args = new Dictionary<string, object?> { ["name"] = "FLAVOUR" };
        Assert.Equal("old", HubToolResults.GetText(await hub.CallToolAsync("io.example.moving", "get_env", args, cancellationToken: Ct)));

        await _env.WriteManifestAsync(Servers.Manifest("io.example.moving", new StdioTransport { Command = "dotnet", Args = [Servers.TestServerDll, "stdio"], Env = new Dictionary<string, string> { ["FLAVOUR"] = "new" } }));
        await hub.DiscoverServersAsync(Ct);

        Assert.Equal("new", HubToolResults.GetText(await hub.CallToolAsync("io.example.moving", "get_env", args, cancellationToken: Ct)));
    }

    private Task Write(string name, string content) => File.WriteAllTextAsync(Path.Combine(_env.RegistryDirectory, name), content, Encoding.UTF8, Ct);
}
