using System.Net;
using System.Net.Http.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Cli;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;
using Atlas.Desktop.Tests.Admin;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Devices;

public sealed class ApprovalTimeoutTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression: a request past <c>Atlas:Pairing:ApprovalTimeout</c> still showed as pending in
    /// <c>atlas devices list</c>, the admin state (the approval banner) and <c>atlas status</c>'s count; only acting on it
    /// revealed the expiry. Now every view agrees: it is denied (and swept from storage) once its time is up.</summary>
    [Fact]
    public async Task PendingRequest_PastApprovalTimeout_ShownNowhereAsPendingAndDeniedInStorage()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:Approval"] = "prompt" }, time);
        var link = await host.NewLinkAsync();
        using var http = host.PinnedHttp();
        using var redeemed = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantPairingTicket, Ticket = link.Ticket, DeviceName = "late", Platform = "web" });
        Assert.Equal(HttpStatusCode.Accepted, redeemed.StatusCode);
        var pairing = await redeemed.Content.ReadFromJsonAsync(AtlasJsonContext.Default.PairingResponse, Ct);

        using var control = new ControlClient(new DataDirectory(host.DataDir).ControlSocketPath);
        using var admin = await AdminClient.SignInAsync(host);
        Assert.Equal("pending", Assert.Single((await control.GetAsync("devices", DesktopJsonContext.Default.ListDeviceView, Ct))!).Status);

        // Just before the timeout it is still waiting; at the timeout it is not.
        time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.Equal("pending", Assert.Single((await control.GetAsync("devices", DesktopJsonContext.Default.ListDeviceView, Ct))!).Status);
        time.Advance(TimeSpan.FromMilliseconds(1));

        var adminState = await admin.GetAsync("state");
        Assert.Empty(adminState.GetProperty("devices").EnumerateArray());
        Assert.Empty((await control.GetAsync("devices", DesktopJsonContext.Default.ListDeviceView, Ct))!);
        var state = await control.GetAsync("state", DesktopJsonContext.Default.DesktopState, Ct);
        Assert.DoesNotContain(state!.Devices, d => d.Status == "pending");

        // Denied in storage, audited once, and the device hears pairing_denied.
        Assert.Empty(await host.Get<IDeviceStore>().ListAsync(Ct));
        Assert.Single(await host.Get<IAuditLog>().RecentAsync(50, Ct), e => e.Event == "pairing_expired");
        using var session = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantDeviceCredential, DeviceCredential = pairing!.DeviceCredential });
        Assert.Equal(ErrorCodes.PairingDenied, await AtlasTestHost.ErrorCodeAsync(session));
    }

    /// <summary>The cleanup sweep denies requests nobody looked at, so expired rows do not accumulate.</summary>
    [Fact]
    public async Task ExpireOverdue_WithNobodyListing_DeletesExpiredRequestsOnly()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:Approval"] = "prompt" }, time);
        using var http = host.PinnedHttp();
        var first = await host.NewLinkAsync();
        using var old = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantPairingTicket, Ticket = first.Ticket, DeviceName = "old", Platform = "web" });
        time.Advance(TimeSpan.FromMinutes(3));
        var second = await host.NewLinkAsync();
        using var fresh = await host.PostAuthAsync(http, new AuthRequest { GrantType = AtlasProtocol.GrantPairingTicket, Ticket = second.Ticket, DeviceName = "fresh", Platform = "web" });
        time.Advance(TimeSpan.FromMinutes(3));

        await host.Get<Desktop.Devices.DeviceService>().ExpireOverdueAsync(Ct);

        Assert.Equal("fresh", Assert.Single(await host.Get<IDeviceStore>().ListAsync(Ct)).Name);
    }
}
