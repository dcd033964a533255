using System.Text.RegularExpressions;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>Messages on the phone (issue 9, "expected of a chat app"), in Debian's Chromium as a Pixel 7 against a real
/// atlas and the fake OpenRouter: answers as sanitized markdown drawn while they stream, code blocks with a Copy button,
/// Copy / Regenerate / Edit-and-resend / Retry, a provider rate limit shown once with its wait, and tool calls as
/// collapsible cards with their inputs, progress and result.</summary>
[Trait("Speed", "slow")]
public sealed class PhoneMessageTests : ChromiumTest
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
    }

    private static Regex Class(string name) => new($"\\b{name}\\b");

    /// <summary>Waits until the system clipboard holds <paramref name="expected"/> (the copy completes asynchronously).</summary>
    private static Task ClipboardHoldsAsync(IPage page, string expected) =>
        page.WaitForFunctionAsync("async (expected) => (await navigator.clipboard.readText()) === expected", expected);

    private async Task<(IBrowserContext Context, IPage Page)> OpenAsync(ChatHost chat, params string[] permissions)
    {
        var credentials = await chat.Host.PairAsync("Browser phone");
        if (permissions.Length > 0)
        {
            var devices = chat.Host.Get<DeviceService>();
            var device = await devices.GetAsync(credentials.DeviceId, Ct);
            await devices.SetPermissionsAsync(device.Id, [.. device.Permissions, .. permissions], null, Ct);
        }

        var (context, page) = await OpenPhoneAsync(chat.Host, credentials);
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = chat.Host.BaseUri.GetLeftPart(UriPartial.Authority) });
        return (context, page);
    }

    private static async Task SendAsync(IPage page, string text)
    {
        await page.Locator("#input").FillAsync(text);
        await page.Locator("#send").TapAsync();
    }

    /// <summary>Before: answers were plain text (no markdown, no code blocks). Now markdown, and model output that tries
    /// to be HTML or script stays inert.</summary>
    [Fact]
    [Trait("Issue9", "markdown")]
    public async Task Answer_MarkdownWithScriptImgOnerrorAndJavascriptLinks_IsRenderedInert_CodeBlockCopiesItsCode()
    {
        await using var chat = await ChatHost.StartAsync();
        var (context, page) = await OpenAsync(chat);
        await using var _ = context;
        chat.Fake.Enqueue(FakeReply.Text(
            "## Result\n\nSee **the docs** at [docs](https://example.com/docs) and [bad](javascript:window.pwned=1).\n\n"
            + "<script>window.pwned=2</script> <img src=x onerror=\"window.pwned=3\"> <a href=\"javascript:window.pwned=4\">raw</a>\n\n"
            + "![tracker](https://example.com/pixel.png)\n\n"
            + "```csharp\nvar answer = 42;\n```\n", pieces: 7));

        await SendAsync(page, "Show me markdown");

        var answer = page.Locator(".msg.assistant").Last;
        await Expect(answer).ToHaveClassAsync(Class("done"));
        await Expect(answer.Locator(".text h2")).ToHaveTextAsync("Result");
        await Expect(answer.Locator(".text strong")).ToHaveTextAsync("the docs");
        var link = answer.Locator(".text a[href='https://example.com/docs']");
        await Expect(link).ToHaveAttributeAsync("target", "_blank");
        await Expect(link).ToHaveAttributeAsync("rel", new Regex("\\bnoopener\\b"));
        Assert.Equal(0, await page.Locator("#messages script, #messages img, #messages iframe, #messages [onerror]").CountAsync());
        Assert.Equal(0, await page.Locator("#messages a[href^='javascript' i], #messages a[href^='data' i]").CountAsync());
        await Expect(answer.Locator(".text")).ToContainTextAsync("<script>window.pwned=2</script>"); // shown as text
        Assert.True(await page.EvaluateAsync<bool>("() => window.pwned === undefined"));
        await Expect(answer.Locator(".text a", new() { HasText = "tracker" })).ToHaveAttributeAsync("href", "https://example.com/pixel.png");

        var code = answer.Locator(".code-block");
        await Expect(code.Locator("pre code")).ToHaveTextAsync("var answer = 42;\n");
        await Expect(code.Locator(".code-bar")).ToContainTextAsync("csharp");
        await code.GetByRole(AriaRole.Button, new() { Name = "Copy csharp code" }).TapAsync();
        await ClipboardHoldsAsync(page, "var answer = 42;\n");
        await ScreenshotAsync(page, "issue9-markdown.png");
    }

    /// <summary>While an answer streams, the finished blocks are drawn as markdown and kept; the open code block is drawn
    /// as code before its fence closes; at the end the whole answer is markdown.</summary>
    [Fact]
    [Trait("Issue9", "markdown")]
    public async Task StreamingAnswer_IsDrawnAsMarkdownAsDeltasArrive_FinishedBlocksKept_AndWholeAtTheEnd()
    {
        await using var chat = await ChatHost.StartAsync();
        var (context, page) = await OpenAsync(chat);
        await using var _ = context;
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(FakeReply.Stream().Role().Delta("First **paragraph**.\n\n").Delta("```python\nprint('hi')\n").Signal(reached).Gate(gate)
            .Delta("```\n\n- one\n- two\n").Finish("stop").Usage(5, 9, 0.0001m).Done());

        await SendAsync(page, "Stream some markdown");
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        var answer = page.Locator(".msg.assistant").Last;
        await Expect(answer.Locator(".md-done strong")).ToHaveTextAsync("paragraph");
        await Expect(answer.Locator(".md-tail pre code")).ToHaveTextAsync("print('hi')\n");
        await Expect(answer).ToHaveClassAsync(Class("streaming"));
        await ScreenshotAsync(page, "issue9-markdown-streaming.png");

        gate.SetResult();
        await Expect(answer).ToHaveClassAsync(Class("done"));
        await Expect(answer.Locator(".text li")).ToHaveTextAsync(["one", "two"]);
        await Expect(answer.Locator(".text pre code")).ToHaveTextAsync("print('hi')\n");
        Assert.Equal(0, await answer.Locator(".md-tail").CountAsync());
    }

    /// <summary>Copy the answer, regenerate it, and edit an earlier message: the conversation continues from the edit,
    /// later messages are removed on the phone and on the desktop, and the model sees only what came before.</summary>
    [Fact]
    [Trait("Issue9", "actions")]
    public async Task Actions_CopyRegenerateAndEditAndResend_ContinueTheConversationFromThatMessage()
    {
        await using var chat = await ChatHost.StartAsync();
        var (context, page) = await OpenAsync(chat);
        await using var _ = context;
        await SendAsync(page, "first");
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(1);
        await SendAsync(page, "second");
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(2);

        // Copy and Regenerate are on the last answer only.
        await Expect(page.Locator(".msg.assistant").First.GetByRole(AriaRole.Button, new() { Name = "Regenerate this answer" })).ToHaveCountAsync(0);
        var last = page.Locator(".msg.assistant").Last;
        await last.GetByRole(AriaRole.Button, new() { Name = "Copy answer" }).TapAsync();
        await ClipboardHoldsAsync(page, "Echo: second");

        chat.Fake.Enqueue(FakeReply.Text("Another take on the second"));
        await last.GetByRole(AriaRole.Button, new() { Name = "Regenerate this answer" }).TapAsync();
        await Expect(page.Locator(".msg.assistant .text")).ToHaveTextAsync(["Echo: first", "Another take on the second"]);
        await Expect(page.Locator(".msg.user .text")).ToHaveTextAsync(["first", "second"]);
        Assert.Equal(["user", "assistant", "user"], chat.Fake.Requests[2].Messages.Select(m => (string?)m!["role"]).Where(r => r != "system"));
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(2);

        // Edit the first message: everything after it goes; the answer is to the edited text alone.
        var first = page.Locator(".msg.user").First;
        await first.GetByRole(AriaRole.Button, new() { Name = "Edit and resend this message" }).TapAsync();
        var editor = first.GetByRole(AriaRole.Textbox, new() { Name = "Edit your message" });
        await Expect(editor).ToBeFocusedAsync();
        await Expect(editor).ToHaveValueAsync("first");
        await ScreenshotAsync(page, "issue9-edit.png");
        await editor.FillAsync("first, edited");
        await first.GetByRole(AriaRole.Button, new() { Name = "Send" }).TapAsync();

        await Expect(page.Locator(".msg.user .text")).ToHaveTextAsync(["first, edited"]);
        await Expect(page.Locator(".msg.assistant .text")).ToHaveTextAsync(["Echo: first, edited"]);
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(1);
        Assert.Equal(["user"], chat.Fake.Requests[3].Messages.Select(m => (string?)m!["role"]).Where(r => r != "system"));
        var deviceId = (await chat.Host.Get<Atlas.Desktop.Storage.IDeviceStore>().ListAsync(Ct))[0].Id;
        var conversation = Assert.Single(await chat.Host.Get<IConversationStore>().ListAsync(deviceId, Ct));
        Assert.Equal(["first, edited", "Echo: first, edited"], (await chat.Host.Get<IConversationStore>().LoadAsync(conversation.Id, 10, Ct)).Select(m => m.Content));
        Assert.Equal(4, chat.Fake.CompletionCount);
        await ScreenshotAsync(page, "issue9-actions.png");
    }

    /// <summary>Before: a 429 with a short Retry-After was retried inside the desktop (the phone only saw a longer wait);
    /// now the phone shows one clear error with the wait, and Retry works once the wait is over.</summary>
    [Fact]
    [Trait("Issue9", "ratelimit")]
    public async Task RateLimit_ProviderAnswers429_ShownOnceWithItsWait_RetryEnabledWhenTheWaitIsOver()
    {
        await using var chat = await ChatHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Llm:MaxRetries"] = "2", ["Atlas:Llm:MaxRetryDelay"] = "00:00:30" });
        var (context, page) = await OpenAsync(chat);
        await using var _ = context;
        await page.Clock.InstallAsync();
        await page.ReloadAsync();
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        chat.Fake.Enqueue(FakeReply.Error(429, "Rate limit exceeded: free-models-per-min", retryAfter: 20));

        await SendAsync(page, "Are you there?");

        var answer = page.Locator(".msg.assistant").Last;
        await Expect(answer).ToHaveClassAsync(Class("error"));
        await Expect(answer.Locator(".meta")).ToHaveTextAsync(new Regex("^Rate limited by the provider — try again in (20|19|18) s$"));
        var retry = answer.GetByRole(AriaRole.Button, new() { Name = "Retry this answer" });
        await Expect(retry).ToBeDisabledAsync();
        Assert.Equal(1, chat.Fake.CompletionCount); // no hidden retry
        Assert.Equal(1, await page.Locator(".msg.assistant").CountAsync());
        await ScreenshotAsync(page, "issue9-rate-limited.png");

        await page.Clock.FastForwardAsync("00:21");
        await Expect(answer.Locator(".meta")).ToHaveTextAsync("Rate limited by the provider — you can retry now");
        await Expect(retry).ToBeEnabledAsync();
        await retry.TapAsync();
        await Expect(page.Locator(".msg.assistant .text")).ToHaveTextAsync(["Echo: Are you there?"]);
        await Expect(page.Locator(".msg.user .text")).ToHaveTextAsync(["Are you there?"]);
        await Expect(page.Locator(".msg.assistant").Last).ToHaveClassAsync(Class("done"));
        Assert.Equal(2, chat.Fake.CompletionCount);
    }

    /// <summary>A tool call is a card: while it runs a spinner and the elapsed time; then its inputs and result, behind a
    /// summary that the keyboard opens and closes.</summary>
    [Fact]
    [Trait("Issue9", "tools")]
    public async Task ToolCard_WhileRunningShowsProgress_ThenInputsAndResult_AndOpensWithTheKeyboard()
    {
        await using var chat = await ToolTests.StartWithEverythingAsync();
        var (context, page) = await OpenAsync(chat, Permissions.Tools);
        await using var _ = context;
        // The phone hears of the result only when the test lets it: the running state is on screen for as long as needed.
        var release = new TaskCompletionSource();
        var held = new List<string>();
        var sync = new Lock();
        IWebSocketRoute? toPage = null;
        var holding = false;
        await page.RouteWebSocketAsync("**/ws", ws =>
        {
            toPage = ws;
            var server = ws.ConnectToServer();
            server.OnMessage(frame =>
            {
                lock (sync)
                {
                    if (!release.Task.IsCompleted && (holding || frame.Text?.Contains("\"kind\":\"tool_result\"", StringComparison.Ordinal) == true))
                    {
                        holding = true;
                        held.Add(frame.Text!);
                        return;
                    }

                    ws.Send(frame.Text!);
                }
            });
        });
        await page.ReloadAsync();
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_1", ToolTests.Echo, """{"message":"hi from the model"}""")));
        chat.Fake.Enqueue(FakeReply.Text("The tool said hi."));

        await SendAsync(page, "Use the echo tool");

        var card = page.Locator(".msg.assistant .tool");
        await Expect(card).ToHaveClassAsync(Class("running"));
        await Expect(card.Locator(".spinner")).ToBeVisibleAsync();
        await Expect(card.Locator(".tool-state")).ToHaveTextAsync(new Regex("^running… \\d+ s$"));
        await Expect(card.Locator("summary")).ToContainTextAsync("Tool echo (io.github.everything)");
        await ScreenshotAsync(page, "issue9-tool-running.png");

        lock (sync)
        {
            release.SetResult();
            foreach (var text in held)
            {
                toPage!.Send(text);
            }
        }

        await Expect(card).ToHaveClassAsync(Class("ok"));
        await Expect(card.Locator(".tool-state")).ToHaveTextAsync(new Regex("^done"));
        await Expect(page.Locator(".msg.assistant").Last).ToHaveClassAsync(Class("done"));
        await Expect(card.Locator(".tool-inputs")).ToBeHiddenAsync(); // collapsed until opened
        await card.Locator("summary").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(card.Locator(".tool-inputs")).ToHaveTextAsync("message = hi from the model");
        await Expect(card.Locator(".tool-result")).ToHaveTextAsync("Echo: hi from the model");
        await Expect(page.Locator(".msg.assistant .text")).ToContainTextAsync("The tool said hi.");
        await ScreenshotAsync(page, "issue9-tool-done.png");
        await page.Keyboard.PressAsync("Enter");
        await Expect(card.Locator(".tool-inputs")).ToBeHiddenAsync();
    }
}
