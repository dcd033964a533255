using Atlas.Desktop.Devices;
using Atlas.Desktop.Storage;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The pairing page in Debian's Chromium (Playwright, no browser download), as a phone would open it from the QR
/// code: trust on first use of the self-signed certificate, ticket from the fragment, check code, desktop approval.</summary>
[Trait("Speed", "slow")]
public sealed class PairPageTests : ChromiumTest
{
    [Fact]
    public async Task PairPage_RedeemsTicketFromFragment_ShowsCheckCode_AndFinishesAfterApproval()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:Approval"] = "prompt" });
        var link = await host.NewLinkAsync();
        var url = Atlas.Client.Pairing.PairingLink.Format(host.BaseUri, link.Ticket, link.Fingerprint, link.ExpiresAt, link.DesktopName);
        var options = Playwright.Devices["Pixel 7"];
        options.IgnoreHTTPSErrors = true; // the user clicking through the self-signed warning (trust on first use)
        await using var context = await Browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);

        await page.GotoAsync(url);
        await Expect(page.Locator("#desktop")).ToHaveTextAsync("Test desktop");
        Assert.Equal(string.Empty, await page.EvaluateAsync<string>("() => location.hash"));
        await Expect(page.Locator("#fingerprint")).ToHaveTextAsync(Atlas.Client.Pairing.SpkiPin.ToDisplay(host.Pin));
        await page.Locator("#name").FillAsync("Browser phone");
        await page.Locator("#pair").TapAsync();

        await Expect(page.Locator("#check")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9]{6}$"));
        var shown = await page.Locator("#check").TextContentAsync();
        var device = Assert.Single(await host.Get<IDeviceStore>().ListAsync(TestContext.Current.CancellationToken));
        Assert.Equal((DeviceRecord.Pending, shown, "web", "Browser phone"), (device.Status, device.CheckCode, device.Platform, device.Name));
        await Expect(page.Locator("#local-check")).ToBeHiddenAsync();

        await host.Get<DeviceService>().ApproveAsync(device.Id, TestContext.Current.CancellationToken);
        await Expect(page.Locator("#done")).ToBeVisibleAsync();
        await Expect(page.Locator("#device")).ToHaveTextAsync(device.Id);
        var stored = await page.EvaluateAsync<string>("() => localStorage.getItem('atlas.device')");
        Assert.Contains(device.Id, stored, StringComparison.Ordinal);

        // The ticket never left the browser in a URL.
        Assert.DoesNotContain(requests, r => r.Contains(link.Ticket, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PairPage_WithExpiredOrMalformedLink_ExplainsWhatToDo()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var options = new BrowserNewContextOptions { IgnoreHTTPSErrors = true };
        await using var context = await Browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(host.BaseUri, "pair#v=1&t=short").ToString());
        await Expect(page.Locator("#invalid")).ToContainTextAsync("Scan the QR code on the desktop again");
        var link = await host.NewLinkAsync();
        await page.GotoAsync(Atlas.Client.Pairing.PairingLink.Format(host.BaseUri, link.Ticket, link.Fingerprint, DateTimeOffset.UtcNow.AddMinutes(-1), "x"));
        await page.ReloadAsync();
        await Expect(page.Locator("#invalid")).ToContainTextAsync("expired");
    }
}
