using System.Text.Json;
using Atlas.Desktop.Tests.Infrastructure;
using Atlas.Desktop.Tests.Protocol;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The web client's wire module (wwwroot/wire.js), loaded in the page from a real desktop, against the golden
/// fixtures the .NET golden tests read (tests/Fixtures/wire): what it sends is exactly a fixture, what it receives it
/// reads to the fixture's values. A wire change edits a fixture, and both clients' tests follow.</summary>
[Trait("Speed", "slow")]
public sealed class WireFixtureTests : ChromiumTest
{
    /// <summary>The fixtures of what the web client sends (frames, or a request's data).</summary>
    private static readonly string[] Sent =
        ["auth.json", "pong.json", "file_request.json", "chat_message.data.json", "resume.data.json", "conversation_request.data.json",
         "chat_cancel.data.json", "media_process.data.json"];

    /// <summary>The fixtures of what the desktop sends the web client.</summary>
    private static readonly string[] Received =
        ["error.json", "chat_response.delta.json", "chat_response.done.json", "chat_response.error.json", "chat_response.tool_result.json"];

    /// <summary>A fixture nobody checks is no contract: each one is either sent or received by the web client.</summary>
    [Fact]
    [Trait("Issue13", "7")]
    public void Fixtures_EachOne_IsCheckedAsSentOrReceived() =>
        Assert.Equal(WireFixtures.All, [.. Sent.Concat(Received).Order(StringComparer.Ordinal)]);

    /// <summary>wire.js builds, for every frame or body the web client sends, exactly the fixture's JSON.</summary>
    [Fact]
    [Trait("Issue13", "7")]
    public async Task WireJs_FramesItSends_AreExactlyTheFixtures()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (context, page) = await OpenWireAsync(host);
        await using var _ = context;

        var built = JsonSerializer.Deserialize<Dictionary<string, string>>(await page.EvaluateAsync<string>("""
            async () => {
              const wire = await import("/wire.js");
              return JSON.stringify({
                "auth.json": wire.encodeFrame(wire.authFrame("a-1", "sess_abc")),
                "pong.json": wire.encodeFrame(wire.pongFrame("p-1")),
                "file_request.json": wire.encodeFrame({ type: "file_request", id: "c-2", data: { op: "list", path: "" } }),
                "chat_message.data.json": JSON.stringify(wire.chatMessageData({
                  text: "What is on this receipt?",
                  conversationId: "cnv_1",
                  model: "openai/gpt-4o-mini",
                  attachments: [{ kind: "image", path: "camera/r.jpg" }, { kind: "context", title: "OCR", text: "TOTAL 3.50" }],
                })),
                "resume.data.json": JSON.stringify(wire.resumeData("msg_1", 12)),
                "chat_cancel.data.json": JSON.stringify(wire.chatCancelData("msg_1")),
                "conversation_request.data.json": JSON.stringify(wire.conversationData("rename", { conversationId: "cnv_1", title: "Trip" })),
                "media_process.data.json": JSON.stringify(wire.mediaProcessData("ocr", "camera/receipt.jpg")),
              });
            }
            """))!;

        Assert.Equal(Sent.Order(StringComparer.Ordinal), built.Keys.Order(StringComparer.Ordinal));
        foreach (var name in Sent)
        {
            Assert.True(WireFixtures.Read(name) == built[name], $"{name}: the fixture is\n{WireFixtures.Read(name)}\nwire.js builds\n{built[name]}");
        }
    }

    /// <summary>wire.js accepts every frame the desktop sends it and reads the values the app uses from it; text that is
    /// not a frame is ignored.</summary>
    [Fact]
    [Trait("Issue13", "7")]
    public async Task WireJs_FramesItReceives_ReadToTheFixturesValues()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (context, page) = await OpenWireAsync(host);
        await using var _ = context;
        var texts = Received.ToDictionary(name => name, WireFixtures.Read);

        using var read = JsonDocument.Parse(await page.EvaluateAsync<string>("""
            async (texts) => {
              const wire = await import("/wire.js");
              const frames = Object.fromEntries(Object.entries(texts).map(([name, text]) => [name, wire.parseFrame(text)]));
              const error = wire.frameError(frames["error.json"]);
              return JSON.stringify({
                frames,
                error: { message: error.message, code: error.code, retryAfter: error.retryAfter },
                notFrames: [wire.parseFrame("null"), wire.parseFrame("[1]"), wire.parseFrame("{"), wire.parseFrame('{"v":1}')],
              });
            }
            """, texts));
        var frames = read.RootElement.GetProperty("frames");
        JsonElement Data(string name) => frames.GetProperty(name).GetProperty("data");

        var error = frames.GetProperty("error.json");
        Assert.Equal(("error", "c-1"), (error.GetProperty("type").GetString(), error.GetProperty("re").GetString()));
        var thrown = read.RootElement.GetProperty("error");
        Assert.Equal(("gone", "not_found", 2), (thrown.GetProperty("message").GetString(), thrown.GetProperty("code").GetString(), thrown.GetProperty("retryAfter").GetInt32()));

        foreach (var name in Received.Where(n => n.StartsWith("chat_response.", StringComparison.Ordinal)))
        {
            var frame = frames.GetProperty(name);
            Assert.Equal(("chat_response", "m-7", "msg_1"), (frame.GetProperty("type").GetString(), frame.GetProperty("re").GetString(), Data(name).GetProperty("messageId").GetString()));
        }

        var delta = Data("chat_response.delta.json");
        Assert.Equal(("delta", 3, "Hel"), (delta.GetProperty("kind").GetString(), delta.GetProperty("seq").GetInt32(), delta.GetProperty("delta").GetString()));
        var done = Data("chat_response.done.json");
        Assert.Equal(("done", 9, "stop", "openai/gpt-4o-mini"),
            (done.GetProperty("kind").GetString(), done.GetProperty("seq").GetInt32(), done.GetProperty("finishReason").GetString(), done.GetProperty("model").GetString()));
        var usage = done.GetProperty("usage");
        Assert.Equal((12, 5, 17, 0.00021m),
            (usage.GetProperty("promptTokens").GetInt32(), usage.GetProperty("completionTokens").GetInt32(), usage.GetProperty("totalTokens").GetInt32(), usage.GetProperty("cost").GetDecimal()));
        var failed = Data("chat_response.error.json");
        var failure = failed.GetProperty("error");
        Assert.Equal(("error", 4, "llm_rate_limited", "slow down", 30, true),
            (failed.GetProperty("kind").GetString(), failed.GetProperty("seq").GetInt32(), failure.GetProperty("code").GetString(), failure.GetProperty("message").GetString(),
             failure.GetProperty("retryAfter").GetInt32(), failure.GetProperty("retryable").GetBoolean()));
        var tool = Data("chat_response.tool_result.json");
        var result = tool.GetProperty("toolResult");
        Assert.Equal(("tool_result", 5, "call_1", "files__list", false, "tool_denied", "no"),
            (tool.GetProperty("kind").GetString(), tool.GetProperty("seq").GetInt32(), result.GetProperty("id").GetString(), result.GetProperty("name").GetString(),
             result.GetProperty("ok").GetBoolean(), result.GetProperty("error").GetProperty("code").GetString(), result.GetProperty("error").GetProperty("message").GetString()));

        Assert.All(read.RootElement.GetProperty("notFrames").EnumerateArray(), notFrame => Assert.Equal(JsonValueKind.Null, notFrame.ValueKind));
    }

    /// <summary>A page on the web client's origin of a real desktop, where wire.js is served.</summary>
    private async Task<(Microsoft.Playwright.IBrowserContext Context, Microsoft.Playwright.IPage Page)> OpenWireAsync(AtlasTestHost host)
    {
        var context = await Browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(host.BaseUri, "/wire.js").ToString());
        return (context, page);
    }
}
