using System.Net;
using System.Net.Http.Json;
using Atlas.Client;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Atlas.Connect;
using Atlas.Desktop.Cli;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Storage;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Pairing;

public sealed class PairingFlowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pair_WithDesktopApprovalOverControlSocket_YieldsCredentialSessionAndAuthenticatedSocket()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:Approval"] = "prompt" });
        var link = await host.NewLinkAsync();
        var pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pairing = AtlasClient.PairAsync(link, "Pixel 7", "android", code => pending.TrySetResult(code),
            AtlasTestHost.ClientOptions(), Ct);
        var checkCode = await pending.Task.WaitAsync(TestTimeouts.Default, Ct);

        // The desktop user sees the same check code next to the request, then approves through `atlas devices approve`'s channel.
        using var control = new ControlClient(new DataDirectory(host.DataDir).ControlSocketPath);
        var listed = await control.GetAsync("devices", DesktopJsonContext.Default.ListDeviceView, Ct);
        var request = Assert.Single(listed);
        Assert.Equal("pending", request.Status);
        Assert.Equal(checkCode, request.CheckCode);
        Assert.Equal("Pixel 7", request.Name);
        await control.PostAsync($"devices/{request.Id}/approve", null, DesktopJsonContext.Default.DeviceView, Ct);

        var credentials = await pairing.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(request.Id, credentials.DeviceId);
        Assert.Equal(host.Pin, credentials.Fingerprint);
        using var client = new AtlasClient(credentials, AtlasTestHost.ClientOptions());
        var session = await client.GetSessionAsync(Ct);
        Assert.Equal(credentials.DeviceId, session.DeviceId);
        await using var connection = await client.ConnectAsync(Ct);
        Assert.Equal(credentials.DeviceId, connection.DeviceId);
        Assert.Contains(Permissions.FilesWrite, connection.Permissions);
    }

    [Fact]
    public async Task Pair_DeniedOnDesktop_ClientGetsPairingDenied()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:Approval"] = "prompt" });
        var link = await host.NewLinkAsync();
        var pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pairing = AtlasClient.PairAsync(link, "Unknown", "android", _ => pending.TrySetResult(), AtlasTestHost.ClientOptions(), Ct);
        await pending.Task.WaitAsync(TestTimeouts.Default, Ct);
        var device = Assert.Single(await host.Get<IDeviceStore>().ListAsync(Ct));
        await host.Get<Atlas.Desktop.Devices.DeviceService>().DenyAsync(device.Id, Ct);

        var error = await Assert.ThrowsAsync<AtlasException>(() => pairing.WaitAsync(TestTimeouts.Default, Ct));
        Assert.Equal(ErrorCodes.PairingDenied, error.Code);
        Assert.Empty(await host.Get<IDeviceStore>().ListAsync(Ct));
    }

    [Fact]
    public async Task PendingDevice_WithoutApproval_NeverGetsASession()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:Approval"] = "prompt" });
        var link = await host.NewLinkAsync();
        using var http = host.PinnedHttp();
        using var redeemed = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantPairingTicket, Ticket = link.Ticket, DeviceName = "x", Platform = "web" });
        Assert.Equal(HttpStatusCode.Accepted, redeemed.StatusCode);
        var pairing = await redeemed.Content.ReadFromJsonAsync(AtlasJsonContext.Default.PairingResponse, Ct);

        using var session = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantDeviceCredential, DeviceCredential = pairing!.DeviceCredential });
        Assert.Equal(HttpStatusCode.Forbidden, session.StatusCode);
        Assert.Equal(ErrorCodes.PairingPending, await AtlasTestHost.ErrorCodeAsync(session));
    }

    [Fact]
    public async Task Ticket_RedeemedTwice_SecondFails()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var link = await host.NewLinkAsync();
        await AtlasClient.PairAsync(link, "first", "dotnet", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<AtlasException>(() =>
            AtlasClient.PairAsync(link, "second", "dotnet", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct));
        Assert.Equal(ErrorCodes.PairingFailed, error.Code);
        Assert.Single(await host.Get<IDeviceStore>().ListAsync(Ct));
    }

    [Fact]
    public async Task Ticket_RacingRedemptions_ExactlyOneWins()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:MaxFailures"] = "100" });
        var link = await host.NewLinkAsync();
        using var http = host.PinnedHttp();
        var attempts = Enumerable.Range(0, 12).Select(i => host.PostAuthAsync(http, new AuthRequest
        {
            GrantType = AtlasProtocol.GrantPairingTicket,
            Ticket = link.Ticket,
            DeviceName = "racer " + i,
            Platform = "web",
        })).ToList();
        var responses = await Task.WhenAll(attempts);
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(11, responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Single(await host.Get<IDeviceStore>().ListAsync(Ct));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, false)]
    [InlineData(1, false)]
    public async Task Ticket_AroundExpiry_AcceptedOnlyBefore(int msAfterExpiry, bool accepted)
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(time: time);
        var ticket = await host.Get<PairingService>().CreateTicketAsync(Ct);
        var link = PairingLink.Parse(ticket.Url);
        time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromMilliseconds(msAfterExpiry));
        using var http = host.PinnedHttp();
        using var response = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantPairingTicket, Ticket = link.Ticket, DeviceName = "late", Platform = "web" });
        Assert.Equal(accepted ? HttpStatusCode.OK : HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Ticket_FromEarlierWindow_StillSingleUseAndHashedAtRest()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var first = await host.NewLinkAsync();
        _ = await host.NewLinkAsync();
        var database = await File.ReadAllBytesAsync(Path.Combine(host.DataDir, "atlas.db"), Ct);
        var wal = File.Exists(Path.Combine(host.DataDir, "atlas.db-wal")) ? await File.ReadAllBytesAsync(Path.Combine(host.DataDir, "atlas.db-wal"), Ct) : [];
        var text = System.Text.Encoding.ASCII.GetString([.. database, .. wal]);
        Assert.DoesNotContain(first.Ticket, text, StringComparison.Ordinal);
        await AtlasClient.PairAsync(first, "a", "dotnet", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct);
    }

    /// <summary>Regression: five failures from one address closed pairing for every address; now they refuse only that
    /// address, and a new pairing window lets it in again.</summary>
    [Fact]
    [Trait("Hardening", "14")]
    public async Task BruteForce_TooManyFailuresFromOneAddress_RefusesThatAddressAndSurfacesAttempts()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:MaxFailures"] = "5" });
        var valid = await host.NewLinkAsync();
        using var http = host.PinnedHttp();
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantPairingTicket, Ticket = Secrets(i), DeviceName = "guess", Platform = "web" });
            Assert.Equal(ErrorCodes.PairingFailed, await AtlasTestHost.ErrorCodeAsync(wrong));
        }

        // This address is refused from now on, even with the genuine ticket, and the desktop user is told. Pairing stays
        // open for other addresses (PairingAbuseTests).
        using var genuine = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantPairingTicket, Ticket = valid.Ticket, DeviceName = "me", Platform = "web" });
        Assert.Equal(ErrorCodes.PairingClosed, await AtlasTestHost.ErrorCodeAsync(genuine));
        var state = host.Get<PairingService>().State;
        Assert.False(state.Closed);
        Assert.Equal(5, state.RecentFailures);
        var events = await host.Get<IAuditLog>().RecentAsync(20, Ct);
        Assert.Equal(5, events.Count(e => e.Event == "pairing_failed" && e.Address == "127.0.0.1"));
        Assert.Contains(events, e => e.Event == "pairing_address_locked" && e.Address == "127.0.0.1");

        // A new window from the desktop reopens pairing.
        await host.PairAsync("after reopening");
    }

    [Fact]
    public async Task AuthEndpoint_RateLimitedPerAddress_AnswersRateLimitedAndAudits()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:RateLimits:AuthPerMinute"] = "3" });
        using var http = host.PinnedHttp();
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantDeviceCredential, DeviceCredential = "dev_0." + Secrets(i) });
            codes.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal(ErrorCodes.RateLimited, await AtlasTestHost.ErrorCodeAsync(response));
                Assert.True(response.Headers.RetryAfter is not null);
            }
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], codes);
        Assert.Contains(await host.Get<IAuditLog>().RecentAsync(20, Ct), e => e.Event == "auth_rate_limited");
    }

    [Fact]
    public async Task Client_PinnedToAnotherKey_RefusesBeforeSendingTheTicket()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var genuine = await host.NewLinkAsync();
        var otherPin = Auth.Secrets.NewSecret();
        var forged = PairingLink.Parse(PairingLink.Format(genuine.BaseUri, genuine.Ticket, otherPin, genuine.ExpiresAt, "Test desktop"));

        await Assert.ThrowsAsync<HttpRequestException>(() =>
            AtlasClient.PairAsync(forged, "phone", "dotnet", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct));

        // The ticket never reached the server: it is still redeemable with the right pin, and nothing was audited.
        Assert.DoesNotContain(await host.Get<IAuditLog>().RecentAsync(20, Ct), e => e.Event == "pairing_failed");
        await AtlasClient.PairAsync(genuine, "phone", "dotnet", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct);
    }

    [Fact]
    public async Task Cli_StatusWithoutRunningInstance_ExitsNotRunning()
    {
        var code = await AtlasCli.RunAsync(["status", "--data-dir", Path.Combine(Path.GetTempPath(), "atl-none-" + Guid.NewGuid().ToString("N")[..6])]);
        Assert.Equal(ExitCodes.NotRunning, code);
    }

    private static string Secrets(int seed) => Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData([(byte)seed]))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
