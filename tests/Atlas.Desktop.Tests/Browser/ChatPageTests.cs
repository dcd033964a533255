using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The chat screen of the mobile web client in Debian's Chromium as a phone (Pixel 7), against a real atlas and
/// the fake provider: streaming, stop, safe rendering, the model picker, and the IndexedDB outbox that sends messages
/// typed offline once the network is back, exactly once.</summary>
[Trait("Speed", "slow")]
public sealed class ChatPageTests : ChromiumTest
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(IBrowserContext Context, IPage Page)> OpenPhoneAsync(ChatHost chat) =>
        await OpenPhoneAsync(chat.Host, await chat.Host.PairAsync("Browser phone"));

    [Fact]
    public async Task Chat_StreamsTheAnswer_RendersItAsText_SendsAPhoto_AndStopCancelsUpstream()
    {
        await using var chat = await ChatHost.StartAsync();
        var (context, page) = await OpenPhoneAsync(chat);
        await using var _ = context;
        chat.Fake.Enqueue(FakeReply.Text("<img src=x onerror=alert(1)> is just text", pieces: 4));

        await page.Locator("#input").FillAsync("Hello from the browser");
        await page.Locator("#send").TapAsync();

        var answer = page.Locator(".msg.assistant").Last;
        await Expect(answer).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bdone\\b"));
        await Expect(answer.Locator(".text")).ToHaveTextAsync("<img src=x onerror=alert(1)> is just text");
        Assert.Equal(0, await page.Locator("#messages img").CountAsync());
        Assert.Equal("Hello from the browser", chat.Fake.Requests[0].LastUserText);
        await Expect(page.Locator("#model option")).ToHaveCountAsync(3);
        await page.Locator("#menu").TapAsync();
        await Expect(page.Locator("#conversations li")).ToHaveCountAsync(1);
        await page.Locator("#menu").TapAsync();

        await page.Locator("#attach-input").SetInputFilesAsync(new FilePayload { Name = "pixel.png", MimeType = "image/png", Buffer = Png });
        await page.Locator("#input").FillAsync("What is in this photo?");
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(2);
        var image = chat.Fake.Requests[1].Messages[^1]!["content"]!.AsArray().Single(p => (string?)p!["type"] == "image_url");
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(Png), (string?)image!["image_url"]!["url"]);

        var reached = new TaskCompletionSource();
        chat.Fake.Enqueue(FakeReply.Stream().Role().Delta("This will be stopped").Signal(reached).Gate(new TaskCompletionSource()));
        await page.Locator("#input").FillAsync("Tell me a long story");
        await page.Locator("#send").TapAsync();
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        await Expect(page.Locator(".msg.assistant").Last.Locator(".text")).ToHaveTextAsync("This will be stopped");
        await page.Locator("#stop").TapAsync();
        await Expect(page.Locator(".msg.assistant").Last).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bcancelled\\b"));
        await chat.Fake.Requests[2].Aborted.WaitAsync(TestTimeouts.Default, Ct);
        await Expect(page.Locator("#stop")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Outbox_MessagesTypedOffline_AreSentOnReconnect_ExactlyOnce()
    {
        await using var chat = await ChatHost.StartAsync();
        var (context, page) = await OpenPhoneAsync(chat);
        await using var _ = context;

        await context.SetOfflineAsync(true);
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "offline");
        await page.Locator("#input").FillAsync("written in a tunnel");
        await page.Locator("#send").TapAsync();
        await page.Locator("#input").FillAsync("and a second thought");
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.user.pending")).ToHaveCountAsync(2);
        var queued = await OutboxAsync(page);
        Assert.Equal(2, queued.GetArrayLength());
        Assert.Equal(0, chat.Fake.CompletionCount);

        await context.SetOfflineAsync(false); // back online: reconnect, then the outbox goes out in order
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(2);
        await Expect(page.Locator(".msg.assistant .text")).ToHaveTextAsync(["Echo: written in a tunnel", "Echo: and a second thought"]);
        // The desktop keeps a conversation's turns in order: the second answer waits for the first and sees it.
        Assert.Equal(["written in a tunnel", "and a second thought"], chat.Fake.Requests.Select(r => r.LastUserText));
        Assert.Equal(["user", "assistant", "user"], chat.Fake.Requests[1].Messages.Select(m => (string?)m!["role"]).Where(r => r != "system"));
        Assert.Equal(0, (await OutboxAsync(page)).GetArrayLength());

        // A crash between sending and the desktop's acknowledgement leaves a message in the outbox: sending it again
        // (same id, same request) attaches to what the desktop already did and never asks the model twice.
        var first = queued[0];
        var deviceId = (await chat.Host.Get<Atlas.Desktop.Storage.IDeviceStore>().ListAsync(Ct))[0].Id;
        await page.EvaluateAsync("""
            async (raw) => {
              const item = JSON.parse(raw);
              const db = await new Promise((resolve, reject) => { const r = indexedDB.open("atlas-chat", 1); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
              await new Promise((resolve, reject) => { const tx = db.transaction("outbox", "readwrite"); tx.objectStore("outbox").put({ ...item, data: { text: item.text } }); tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
            }
            """, first.GetRawText());
        await context.SetOfflineAsync(true);
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "offline");
        await context.SetOfflineAsync(false);
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await page.WaitForFunctionAsync("""
            async () => {
              const db = await new Promise((resolve) => { const r = indexedDB.open("atlas-chat", 1); r.onsuccess = () => resolve(r.result); });
              const count = await new Promise((resolve) => { const q = db.transaction("outbox").objectStore("outbox").count(); q.onsuccess = () => resolve(q.result); });
              return count === 0;
            }
            """);
        Assert.Equal(2, chat.Fake.CompletionCount);
        Assert.Single(await chat.Host.Get<Atlas.Desktop.Chat.Conversations.IConversationStore>().ListAsync(deviceId, Ct));
    }

    /// <summary>Before: after the socket dropped right after Send, the phone showed the user's message twice and a
    /// "done" answer with a few tokens of many; after a drop mid-answer it could lose a delta. Broadcast frames reached the
    /// new socket ahead of its replay, and the page replaced the answer it was following with an empty one. Also before:
    /// on every reconnect the page showed its cached copy of the open conversation until the desktop's load answered, so
    /// the message just sent and the answer being followed left the screen and the previous answer was the last.</summary>
    [Fact]
    [Trait("Hardening", "10")]
    public async Task Reconnect_AfterADropRightAfterSendAndMidAnswer_ShowsTheStoredTextWithOneUserBubble()
    {
        await using var chat = await ChatHost.StartAsync();
        var credentials = await chat.Host.PairAsync("Browser phone");
        var (context, page) = await OpenPhoneAsync(chat.Host, credentials);
        await using var _ = context;
        await context.AddInitScriptAsync(DeafAfterSendScript);
        await context.AddInitScriptAsync(ScreenWatchScript);
        await page.ReloadAsync();
        await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", "online", new() { Timeout = Wait });

        chat.Fake.Enqueue(FakeReply.Text("The first answer", pieces: 2));
        await page.Locator("#input").FillAsync("first");
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(1, new() { Timeout = Wait });

        // 1. The socket drops right after Send: the desktop took the message, the phone heard nothing of it.
        var (reached, gates) = (new[] { new TaskCompletionSource(), new TaskCompletionSource() }, new[] { new TaskCompletionSource(), new TaskCompletionSource() });
        chat.Fake.Enqueue(LongReply("a", reached, gates));
        await page.EvaluateAsync("() => { window.__atlasDeafAfterSend = true; }");
        await page.Locator("#input").FillAsync("second");
        await page.Locator("#send").TapAsync();
        await DropAndResumeAsync(chat, credentials.DeviceId, page, reached, gates);
        await AssertShownAsStoredAsync(chat, credentials.DeviceId, page, "second", LongText("a"), 2, "drop-after-send.png");

        // 2. The socket drops in the middle of the answer.
        (reached, gates) = (new[] { new TaskCompletionSource(), new TaskCompletionSource() }, new[] { new TaskCompletionSource(), new TaskCompletionSource() });
        chat.Fake.Enqueue(LongReply("b", reached, gates));
        await page.Locator("#input").FillAsync("third");
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.assistant").Last.Locator(".text")).ToContainTextAsync("b9 ", new() { Timeout = Wait });
        await DropAndResumeAsync(chat, credentials.DeviceId, page, reached, gates);
        await AssertShownAsStoredAsync(chat, credentials.DeviceId, page, "third", LongText("b"), 3, "drop-mid-answer.png");
        Assert.Equal(3, chat.Fake.CompletionCount);
    }

    private static float Wait => (float)TestTimeouts.Default.TotalMilliseconds;

    /// <summary>Makes the next socket that sends a chat_message deaf afterwards (as if the network died right after
    /// the frame left), and counts authenticated sockets.</summary>
    private const string DeafAfterSendScript = """
        (() => {
          const Native = window.WebSocket;
          const onmessage = Object.getOwnPropertyDescriptor(Native.prototype, "onmessage");
          window.__atlasAuthed = 0;
          class Patched extends Native {
            send(data) {
              super.send(data);
              if (window.__atlasDeafAfterSend && String(data).includes('"type":"chat_message"')) {
                window.__atlasDeafAfterSend = false;
                this.deaf = true;
              }
            }
          }
          Object.defineProperty(Patched.prototype, "onmessage", {
            get() { return onmessage.get.call(this); },
            set(handler) {
              onmessage.set.call(this, (event) => {
                if (this.deaf) return;
                try {
                  const frame = JSON.parse(event.data);
                  if (frame.type !== "ping") window.__atlasTrace?.push(`${performance.now().toFixed(0)} <- ${frame.type} re=${frame.re ?? ""} ${frame.data?.kind ?? frame.data?.op ?? ""} ${frame.data?.seq ?? ""}`);
                } catch { /* not JSON: the page answers it */ }
                if (String(event.data).includes('"type":"auth_success"')) window.__atlasAuthed++;
                handler(event);
              });
            },
          });
          window.WebSocket = Patched;
        })();
        """;

    /// <summary>Records every bubble that leaves the screen once shown (a reconnect may update the conversation on
    /// screen, never take a message or an answer away) and a trace of what the screen showed, for failure messages.</summary>
    private const string ScreenWatchScript = """
        (() => {
          window.__atlasVanished = [];
          window.__atlasTrace = [];
          const seen = new Set();
          let last = "";
          new MutationObserver(() => {
            const bubbles = [...document.querySelectorAll("#messages .msg")];
            const keys = new Set(bubbles.map((el) => el.classList.contains("user") ? `user "${el.querySelector(".text")?.textContent}"` : `answer ${el.dataset.id}`));
            for (const key of seen) if (!keys.has(key)) { window.__atlasVanished.push(key); seen.delete(key); }
            for (const key of keys) seen.add(key);
            const shape = bubbles.map((el) => `${el.className.replace("msg ", "")}:${el.querySelector(".text")?.textContent.slice(0, 6) ?? ""}`).join(" | ");
            if (shape !== last) window.__atlasTrace.push(`${performance.now().toFixed(0)} screen ${shape}`);
            last = shape;
          }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
        })();
        """;

    /// <summary>Waits until the answer is under way, drops the device's sockets on the desktop, lets the provider go on
    /// while the page reconnects (before it could resume), then once it is back lets the answer finish.</summary>
    private static async Task DropAndResumeAsync(ChatHost chat, string deviceId, IPage page, TaskCompletionSource[] reached, TaskCompletionSource[] gates)
    {
        await reached[0].Task.WaitAsync(TestTimeouts.Default, Ct);
        var authed = await page.EvaluateAsync<int>("() => window.__atlasAuthed");
        foreach (var connection in chat.Host.Get<Atlas.Desktop.Realtime.ConnectionRegistry>().Snapshot(deviceId))
        {
            connection.Abort();
        }

        gates[0].SetResult(); // more of the answer while the phone has no socket
        await reached[1].Task.WaitAsync(TestTimeouts.Default, Ct);
        await page.WaitForFunctionAsync("(n) => window.__atlasAuthed > n", authed, new() { Timeout = Wait });
        gates[1].SetResult(); // and the rest while it reconnects and resumes
    }

    /// <summary>Waits until the page shows the answer the desktop stored for <paramref name="userText"/> (found by its
    /// message id, not by position: while the page reconnects other states pass), then checks that the screen settled on
    /// it: done with the stored text, the last bubble, after <paramref name="answers"/> - 1 others and one bubble of the
    /// user's message, and that no bubble left the screen on the way.</summary>
    private static async Task AssertShownAsStoredAsync(ChatHost chat, string deviceId, IPage page, string userText, string expected, int answers, string screenshot)
    {
        var store = chat.Host.Get<Atlas.Desktop.Chat.Conversations.IConversationStore>();
        var conversation = Assert.Single(await store.ListAsync(deviceId, Ct));
        var messages = await store.LoadAsync(conversation.Id, 100, Ct);
        var asked = messages.Select((m, i) => (m, i)).Single(x => x.m.Role == "user" && x.m.Content == userText).i;
        var answerId = messages[asked + 1].Id; // the turn (question and answer) is recorded when the answer starts
        try
        {
            var answer = page.Locator($".msg.assistant[data-id='{answerId}']");
            await Expect(answer).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bdone\\b"), new() { Timeout = Wait });
            await Expect(answer.Locator(".text")).ToHaveTextAsync(expected, new() { Timeout = Wait });
            var stored = await store.GetMessageAsync(deviceId, answerId, Ct);
            Assert.Equal(("assistant", ChatStatus.Done, expected), (stored!.Message.Role, stored.Message.Status, stored.Message.Content));
            await Expect(page.Locator("#messages .msg").Last).ToHaveAttributeAsync("data-id", answerId, new() { Timeout = Wait });
            await Expect(page.Locator(".msg.assistant")).ToHaveCountAsync(answers, new() { Timeout = Wait });
            await Expect(page.Locator(".msg.user .text", new() { HasTextString = userText })).ToHaveCountAsync(1, new() { Timeout = Wait });
            await Expect(page.Locator(".msg.user.pending")).ToHaveCountAsync(0, new() { Timeout = Wait });
            Assert.Empty(await page.EvaluateAsync<string[]>("() => window.__atlasVanished"));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\nAnswer {answerId} to \"{userText}\". {await DescribeAsync(page)}", e);
        }

        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, screenshot), FullPage = true });
    }

    /// <summary>The bubbles on the page (classes, data-id, text), the bubbles that left the screen, and the trace of
    /// frames and screens, for a failure message.</summary>
    private static async Task<string> DescribeAsync(IPage page)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "failed.png"), FullPage = true });
        return await page.EvaluateAsync<string>("""
            () => [
              "Page:", ...[...document.querySelectorAll("#messages .msg")].map((el) => `  ${el.className} [${el.dataset.id}] ${el.querySelector(".text")?.textContent.slice(0, 60)}`),
              "Left the screen: " + (window.__atlasVanished ?? []).join(", "),
              "Trace:", ...(window.__atlasTrace ?? []).slice(-200).map((line) => `  ${line}`),
            ].join("\n")
            """);
    }

    /// <summary>40 deltas, held after the 10th and the 25th until the test opens the gates.</summary>
    private static FakeReply LongReply(string tag, TaskCompletionSource[] reached, TaskCompletionSource[] gates)
    {
        var reply = FakeReply.Stream().Comment().Role();
        for (var i = 0; i < 40; i++)
        {
            if (i is 10 or 25)
            {
                var k = i == 10 ? 0 : 1;
                reply.Signal(reached[k]).Gate(gates[k]).Comment();
            }

            reply.Delta($"{tag}{i} ");
        }

        return reply.Finish("stop").Usage(10, 40, 0.0002m).Done();
    }

    private static string LongText(string tag) => string.Concat(Enumerable.Range(0, 40).Select(i => $"{tag}{i} "));

    private static async Task<JsonElement> OutboxAsync(IPage page) => await page.EvaluateAsync<JsonElement>("""
        async () => {
          const db = await new Promise((resolve, reject) => { const r = indexedDB.open("atlas-chat", 1); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
          return await new Promise((resolve) => { const q = db.transaction("outbox").objectStore("outbox").getAll(); q.onsuccess = () => resolve(q.result.sort((a, b) => a.createdAt - b.createdAt)); });
        }
        """);
}
