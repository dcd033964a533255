using System.Net;
using System.Net.Http.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Storage;
using Atlas.Desktop.Tests.Infrastructure;
using Atlas.Desktop.Tests.Network;

namespace Atlas.Desktop.Tests.Pairing;

/// <summary>Item 14 of issue 8: another host on the LAN cannot keep pairing closed for the desktop user's phone, and
/// junk tickets do not hold up a valid credential grant.</summary>
public sealed class PairingAbuseTests
{
    private const string Phone = "127.0.0.1";
    private const string Stranger = "127.0.0.2";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression: five junk tickets from any LAN host closed pairing for everyone and burned the ticket in the
    /// QR code, so a stranger could keep the desktop user's phone from pairing.</summary>
    [Fact]
    [Trait("Hardening", "14")]
    public async Task RedeemTicket_JunkTicketsFromAnotherHost_LockOutOnlyThatHostAndThePhoneStillPairs()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:MaxFailures"] = "5" });
        var qr = await host.NewLinkAsync();
        using var stranger = LanPeer.Http(host, Stranger);
        for (var i = 0; i < 5; i++)
        {
            using var junk = await host.PostAuthAsync(stranger, Junk(i));
            Assert.Equal(ErrorCodes.PairingFailed, await AtlasTestHost.ErrorCodeAsync(junk));
        }

        using (var locked = await host.PostAuthAsync(stranger, Junk(5)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, locked.StatusCode);
            Assert.Equal(ErrorCodes.PairingClosed, await AtlasTestHost.ErrorCodeAsync(locked));
        }

        Assert.False(host.Get<PairingService>().State.Closed);
        var credentials = await AtlasClient.PairAsync(qr, "Pixel 7", "android", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct);
        Assert.NotNull(await host.Get<IDeviceStore>().GetAsync(credentials.DeviceId, Ct));
        var events = await host.Get<IAuditLog>().RecentAsync(50, Ct);
        Assert.Equal(5, events.Count(e => e.Event == "pairing_failed" && e.Address == Stranger));
        Assert.Contains(events, e => e.Event == "pairing_address_locked" && e.Address == Stranger);
    }

    /// <summary>Regression: failures from any one address closed pairing for everyone; now only failures from several
    /// addresses close it for everyone, and a new QR code reopens it at once.</summary>
    [Fact]
    [Trait("Hardening", "14")]
    public async Task RedeemTicket_FailuresFromManyAddresses_ClosePairingUntilANewQrReopensItAtOnce()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:Pairing:MaxFailures"] = "5",
            ["Atlas:Pairing:MaxFailingAddresses"] = "3",
        });
        var qr = await host.NewLinkAsync();
        foreach (var (source, i) in new[] { "127.0.0.2", "127.0.0.3", "127.0.0.4" }.Select((s, i) => (s, i)))
        {
            using var http = LanPeer.Http(host, source);
            using var junk = await host.PostAuthAsync(http, Junk(i));
            Assert.Equal(ErrorCodes.PairingFailed, await AtlasTestHost.ErrorCodeAsync(junk));
        }

        Assert.True(host.Get<PairingService>().State.Closed);
        var error = await Assert.ThrowsAsync<AtlasException>(() =>
            AtlasClient.PairAsync(qr, "Pixel 7", "android", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct));
        Assert.Equal(ErrorCodes.PairingClosed, error.Code);

        await host.PairAsync("after a new QR");
        Assert.False(host.Get<PairingService>().State.Closed);
    }

    /// <summary>Regression: ticket redemptions and credential grants shared one per-address <c>/auth</c> limit, so junk
    /// tickets from the phone's address made its valid credential grant answer <c>rate_limited</c>.</summary>
    [Fact]
    [Trait("Hardening", "14")]
    public async Task CredentialGrant_AfterTicketFloodFromSameAddress_IsNotRateLimited()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:RateLimits:AuthPerMinute"] = "3",
            ["Atlas:RateLimits:PairingPerMinute"] = "3",
            ["Atlas:Pairing:MaxFailures"] = "100",
        });
        var credentials = await host.PairAsync();
        using var http = host.PinnedHttp();
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var junk = await host.PostAuthAsync(http, Junk(i));
            codes.Add(junk.StatusCode);
        }

        // The ticket limit holds on its own partition...
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], codes);

        // ...and the credential grant from the same address has its own.
        for (var i = 0; i < 3; i++)
        {
            using var grant = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantDeviceCredential, DeviceCredential = credentials.Credential });
            Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
        }
    }

    private static AuthRequest Junk(int seed) => new()
    {
        GrantType = AtlasProtocol.GrantPairingTicket,
        Ticket = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData([(byte)seed, 0x5a]))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_'),
        DeviceName = "junk",
        Platform = "web",
    };

    /// <summary>Regression: a device named "evil\u202Egnp.exe" was accepted, and the right-to-left override it carries made
    /// a bidi-aware terminal reverse the rest of the approval line, check code included. Bidirectional controls are now
    /// refused (before the ticket is spent); U+200D, which emoji sequences need, is not one.</summary>
    [Theory]
    [InlineData("evil\u202Egnp.exe")]
    [InlineData("a\u202Ab")]
    [InlineData("a\u2066b\u2069")]
    [InlineData("\u200Ephone")]
    [InlineData("phone\u200F")]
    [InlineData("phone\u061C")]
    public async Task RedeemTicket_DeviceNameWithBidiControl_RefusedAndTicketStillValid(string name)
    {
        await using var host = await AtlasTestHost.StartAsync();
        var qr = await host.NewLinkAsync();
        using var http = host.PinnedHttp();
        using var refused = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantPairingTicket, Ticket = qr.Ticket, DeviceName = name, Platform = "web" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var error = await refused.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, Ct);
        Assert.Equal(ErrorCodes.BadRequest, error!.Error.Code);
        Assert.Contains("direction", error.Error.Message, StringComparison.Ordinal);
        Assert.Empty(await host.Get<IDeviceStore>().ListAsync(Ct));

        var family = "Family \U0001F468\u200D\U0001F469\u200D\U0001F467";
        var credentials = await AtlasClient.PairAsync(qr, family, "dotnet", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct);
        Assert.Equal(family, (await host.Get<IDeviceStore>().GetAsync(credentials.DeviceId, Ct))!.Name);
    }
}
