using Atlas.Client.Protocol;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Atlas.Desktop.Tests.Chat.ChatHost;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The admin page's Activity card in Debian's Chromium (issue 15): live numbers measured in process with every
/// exporter off, after a phone's chat turn that called a real MCP server's tool; axe-core finds nothing serious.</summary>
[Trait("Speed", "slow")]
public sealed class AdminActivityPageTests : ChromiumTest
{
    /// <summary>Calls and latency of the server, tokens and spend of the model, devices connected; accessible.</summary>
    [Fact]
    [Trait("Issue15", "4")]
    public async Task ActivityCard_AfterAChatTurnWithATool_ShowsCallsLatencyTokensAndSpend_WithoutAnyExporter()
    {
        await using var chat = await ToolTests.StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_activity", ToolTests.Echo, """{"message":"hi"}""")));
        chat.Fake.Responder = _ => FakeReply.Text("The tool answered.", promptTokens: 40, cost: 0.0125m);
        Assert.Equal(ChatEventKinds.Done, (await AllAsync(phone.Chat.SendAsync(Message("use the tool"), cancellationToken: Ct)))[^1].Kind);
        var model = chat.Fake.Requests[0].Model!;

        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(chat.Host.Get<AdminSessions>().CreateLink());

        var server = page.Locator("#activity-servers tr", new() { HasText = "io.github.everything" });
        await Expect(server).ToBeVisibleAsync();
        Assert.True(int.Parse(await server.Locator("td").Nth(1).InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        await Expect(server.Locator("td").Nth(3)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+(\.\d)? (ms|s)$"));
        var row = page.Locator("#activity-models tr", new() { HasText = model });
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.Locator("td").Nth(4)).Not.ToHaveTextAsync("$0.0000");
        await Expect(page.Locator("#activity-summary")).ToContainTextAsync("spent today");
        await Expect(page.Locator("#activity-summary")).ToContainTextAsync("device connection");

        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.Locator("#activity-card").ScreenshotAsync(new() { Path = Path.Combine(folder, "issue15-admin-activity.png") });
        Assert.Empty(await Axe.SeriousViolationsAsync(page));
    }
}
