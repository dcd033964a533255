using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Atlas.Client.Credentials;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Files;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Atlas.Desktop.Tests.Media;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The Files screen of the mobile web client in Debian's Chromium as a phone, against a real atlas (real
/// TLS, real files on disk, the real media pipeline with tesseract): browse, upload (whole and resumable chunks across
/// a dropped connection), preview, download, rename, delete, a clear error without files.write, capture → OCR →
/// from cache → ask in chat, and the offline shell from the service worker.</summary>
[Trait("Speed", "slow")]
public sealed partial class FilesPageTests : ChromiumTest
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string RootOf(AtlasTestHost host, DeviceCredentials credentials) =>
        host.Get<DeviceFileSystem>().RootOf(credentials.DeviceId);

    /// <summary>A refused write leaves nothing behind; reads never create the device's folder, so it may not exist.</summary>
    private static void AssertNothingWritten(string root) =>
        Assert.False(Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any(), $"{root} is not empty");

    private static async Task OpenFilesAsync(IPage page)
    {
        await page.Locator("#tab-files").TapAsync();
        await Expect(page.Locator("#files-view")).ToBeVisibleAsync();
        await Expect(page.Locator("#crumbs button").First).ToHaveTextAsync("My files");
    }

    /// <summary>Accepts the next prompt or confirm dialog with <paramref name="answer"/>.</summary>
    private static void AnswerNextDialog(IPage page, string? answer = null)
    {
        void Handler(object? sender, IDialog dialog)
        {
            page.Dialog -= Handler;
            _ = dialog.AcceptAsync(answer);
        }

        page.Dialog += Handler;
    }

    [Fact]
    public async Task Files_BrowseUploadPreviewDownloadRenameDelete_OnTheDesktopsDisk()
    {
        await using var host = await AtlasTestHost.StartAsync();
        host.DeleteDataDirOnDispose = true;
        var credentials = await host.PairAsync("Files phone");
        var (context, page) = await OpenPhoneAsync(host, credentials);
        await using var _ = context;
        var root = RootOf(host, credentials);
        await OpenFilesAsync(page);
        await Expect(page.Locator("#files-status")).ToHaveTextAsync("This folder is empty.");

        // Upload a small file (one multipart request) into the root.
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "notes <1>.txt", MimeType = "text/plain", Buffer = "buy milk\n<b>not bold</b>"u8.ToArray() });
        await Expect(page.Locator("#files li")).ToHaveCountAsync(1);
        await Expect(page.Locator("#files li .open")).ToHaveTextAsync("📄 notes _1_.txt");
        Assert.Equal("buy milk\n<b>not bold</b>", await File.ReadAllTextAsync(Path.Combine(root, "notes _1_.txt"), Ct));

        // New folder, open it, upload a large file in chunks while the connection drops once mid-upload.
        AnswerNextDialog(page, "docs");
        await page.Locator("#mkdir").TapAsync();
        await Expect(page.Locator("#files li.directory .open")).ToHaveTextAsync("📁 docs");
        await page.Locator("#files li.directory .open").TapAsync();
        await Expect(page.Locator("#crumbs button")).ToHaveTextAsync(["My files", "docs"]);
        var big = RandomNumberGenerator.GetBytes(6 * 1024 * 1024 + 123);
        var dropped = 0;
        await page.RouteAsync("**/files/upload/sessions/*", async route =>
        {
            if (route.Request.Method == "PUT" && route.Request.Headers.TryGetValue("content-range", out var range)
                && !range.StartsWith("bytes 0-", StringComparison.Ordinal) && Interlocked.CompareExchange(ref dropped, 1, 0) == 0)
            {
                await route.AbortAsync("connectionreset");
                return;
            }

            await route.ContinueAsync();
        });
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "big.bin", MimeType = "application/octet-stream", Buffer = big });
        await Expect(page.Locator("#files li .open")).ToHaveTextAsync("📄 big.bin");
        Assert.Equal(1, dropped);
        Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(root, "docs", "big.bin"), Ct));
        await page.UnrouteAllAsync();

        // Back to the root through the breadcrumbs; preview the text (as text, never as markup) and download it.
        await page.Locator("#crumbs button", new() { HasText = "My files" }).TapAsync();
        await page.Locator("#files li.file .open").TapAsync();
        await Expect(page.Locator("#preview pre")).ToHaveTextAsync("buy milk\n<b>not bold</b>");
        Assert.Equal(0, await page.Locator("#preview b").CountAsync());
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#viewer-download").TapAsync());
        Assert.Equal("notes _1_.txt", download.SuggestedFilename);
        Assert.Equal("buy milk\n<b>not bold</b>", await File.ReadAllTextAsync(await download.PathAsync(), Ct));

        // Rename from the viewer, then delete from the list (after confirming).
        AnswerNextDialog(page, "todo.txt");
        await page.Locator("#viewer-rename").TapAsync();
        await Expect(page.Locator("#files li.file .open")).ToHaveTextAsync("📄 todo.txt");
        Assert.True(File.Exists(Path.Combine(root, "todo.txt")));
        Assert.False(File.Exists(Path.Combine(root, "notes _1_.txt")));
        AnswerNextDialog(page);
        await page.Locator("#files li.file .delete").TapAsync();
        await Expect(page.Locator("#files li.file")).ToHaveCountAsync(0);
        Assert.False(File.Exists(Path.Combine(root, "todo.txt")));
        await Expect(page.Locator("#files-status")).ToHaveTextAsync("Deleted todo.txt.");

        // An image previews inline from a blob: URL (the token never goes into a URL).
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "scan.png", MimeType = "image/png", Buffer = MediaProcessingTests.RenderText("HELLO") });
        await page.Locator("#files li.file .open").TapAsync();
        await Expect(page.Locator("#preview img")).ToHaveAttributeAsync("src", BlobUrl());
        Assert.True(await page.Locator("#preview img").EvaluateAsync<bool>("img => img.decode().then(() => img.naturalWidth > 0)"));
    }

    /// <summary>
    /// A phone's file names can be long in any script: the page kept the last 120 UTF-16 code units of a name, which is
    /// up to 360 bytes of Japanese (the desktop takes 255 bytes a name, so the upload was refused), and cut an emoji in
    /// half into U+FFFD. A name now keeps its start and its extension, whole characters (whole emoji) within 255 bytes.
    /// </summary>
    [Fact]
    [Trait("Leftovers", "files")]
    public async Task Upload_LongNamesInAnyScript_FitTheDesktopsLimitWithWholeCharacters()
    {
        await using var host = await AtlasTestHost.StartAsync();
        host.DeleteDataDirOnDispose = true;
        var credentials = await host.PairAsync("Files phone");
        var (context, page) = await OpenPhoneAsync(host, credentials);
        await using var _ = context;
        var root = RootOf(host, credentials);
        await OpenFilesAsync(page);
        var japanese = string.Concat(Enumerable.Repeat("写真", 60)) + ".jpg"; // 360 bytes of name before the extension
        var emoji = string.Concat(Enumerable.Repeat("party 🎉👨‍👩‍👧 ", 12)) + "final.txt"; // emoji, a ZWJ family among them

        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = japanese, MimeType = "image/jpeg", Buffer = [1, 2, 3] });
        await Expect(page.Locator("#files li")).ToHaveCountAsync(1);
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = emoji, MimeType = "text/plain", Buffer = "x"u8.ToArray() });
        await Expect(page.Locator("#files li")).ToHaveCountAsync(2);

        var names = Directory.EnumerateFiles(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.All(names, n => Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(n!), 200, DevicePath.MaxSegmentBytes));
        Assert.All(names, n => Assert.DoesNotContain('\uFFFD', n!));
        var saved = Assert.Single(names, n => n!.EndsWith(".jpg", StringComparison.Ordinal))!;
        Assert.StartsWith("写真写真", saved, StringComparison.Ordinal);
        var party = Assert.Single(names, n => n!.EndsWith(".txt", StringComparison.Ordinal))!;
        Assert.StartsWith("party 🎉👨‍👩‍👧 party", party, StringComparison.Ordinal);
        Assert.DoesNotContain('\u200D', party.Replace("👨‍👩‍👧", string.Empty, StringComparison.Ordinal)); // whole families only: no joiner left over
    }

    [Fact]
    public async Task Files_MissingPermissionsAndAFullQuota_ShowClearErrorsAndNothingChanges()
    {
        await using var host = await AtlasTestHost.StartAsync();
        host.DeleteDataDirOnDispose = true;
        var credentials = await host.PairAsync("Read-only phone");
        await host.Get<DeviceService>().SetPermissionsAsync(credentials.DeviceId, [Permissions.Chat, Permissions.FilesRead], null, Ct);
        var (context, page) = await OpenPhoneAsync(host, credentials);
        await using var _ = context;
        await OpenFilesAsync(page);

        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "a.txt", MimeType = "text/plain", Buffer = "x"u8.ToArray() });
        await Expect(page.Locator("#files-status")).ToHaveAttributeAsync("data-kind", "error");
        await Expect(page.Locator("#files-status")).ToContainTextAsync("files.write");
        AssertNothingWritten(RootOf(host, credentials));

        await host.Get<DeviceService>().SetPermissionsAsync(credentials.DeviceId, [Permissions.Chat, Permissions.FilesRead, Permissions.FilesWrite], 64, Ct);
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "big.txt", MimeType = "text/plain", Buffer = new byte[1000] });
        await Expect(page.Locator("#files-status")).ToContainTextAsync("storage quota");
        await Expect(page.Locator("#files-status")).ToHaveAttributeAsync("data-kind", "error");
        AssertNothingWritten(RootOf(host, credentials));

        await host.Get<DeviceService>().SetPermissionsAsync(credentials.DeviceId, [Permissions.Chat], null, Ct);
        await page.Locator("#crumbs button").First.TapAsync();
        await Expect(page.Locator("#files-status")).ToContainTextAsync("'files.read' permission");
    }

    [Fact]
    public async Task Capture_PhotoIsUploaded_OcrShowsTheText_RepeatIsFromCache_AndAskInChatAttachesIt()
    {
        await using var chat = await ChatHost.StartAsync();
        var credentials = await chat.Host.PairAsync("Camera phone");
        var (context, page) = await OpenPhoneAsync(chat.Host, credentials);
        await using var _ = context;
        await OpenFilesAsync(page);

        await page.Locator("#capture-photo").SetInputFilesAsync(new FilePayload
        {
            Name = "IMG_0042.png",
            MimeType = "image/png",
            Buffer = MediaProcessingTests.RenderText("INVOICE NUMBER 4711", "TOTAL DUE 129 EUR"),
        });
        await Expect(page.Locator("#viewer")).ToBeVisibleAsync();
        await Expect(page.Locator("#viewer-name")).ToHaveTextAsync(CapturedPhoto());
        await Expect(page.Locator("#media-task")).ToHaveValueAsync("ocr");
        var name = await page.Locator("#viewer-name").TextContentAsync();
        Assert.True(File.Exists(Path.Combine(RootOf(chat.Host, credentials), "captures", name!)));

        await page.Locator("#media-run").TapAsync();
        var text = page.Locator("#media-result .media-text");
        await Expect(text).ToContainTextAsync("INVOICE NUMBER 4711");
        await Expect(text).ToContainTextAsync("129");
        Assert.Equal(0, await page.Locator("#media-result .from-cache").CountAsync());

        await page.Locator("#media-run").TapAsync();
        await Expect(page.Locator("#media-result .from-cache")).ToHaveTextAsync("from cache");
        await Expect(text).ToContainTextAsync("INVOICE NUMBER 4711");

        await page.Locator("#media-result .media-ask").TapAsync();
        await Expect(page.Locator("#chat-view")).ToBeVisibleAsync();
        await Expect(page.Locator("#attachment .chip")).ToContainTextAsync($"Text of {name}");
        await page.Locator("#input").FillAsync("What is the total due?");
        await page.Locator("#send").TapAsync();
        await Expect(page.Locator(".msg.assistant.done")).ToHaveCountAsync(1);
        var sent = chat.Fake.Requests[0].LastUserText;
        Assert.StartsWith("What is the total due?", sent, StringComparison.Ordinal);
        Assert.Contains($"[Attached context: Text of {name}]", sent, StringComparison.Ordinal);
        Assert.Contains("INVOICE NUMBER 4711", sent, StringComparison.Ordinal);
        await Expect(page.Locator("#attachment")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Capture_VoiceNoteVideoAndQrCode_ResultsShowRecordingFramesAndCodes()
    {
        await using var host = await AtlasTestHost.StartAsync();
        host.DeleteDataDirOnDispose = true;
        var browser = await LaunchAsync("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream");
        await using var _browser = browser;
        var (context, page) = await OpenPhoneAsync(host, await host.PairAsync("Recorder phone"), browser);
        await using var _ = context;
        await context.GrantPermissionsAsync(["microphone"]);
        await OpenFilesAsync(page);

        // A voice note recorded in the page (Chromium's fake microphone) lands in captures/ and can be analyzed.
        await page.Locator("#record").TapAsync();
        await Expect(page.Locator("#record")).ToHaveTextAsync("■ Stop recording");
        await page.WaitForTimeoutAsync(1000); // the length of the recording, not a synchronization
        await page.Locator("#record").TapAsync();
        await Expect(page.Locator("#viewer-name")).ToHaveTextAsync(VoiceNote());
        await Expect(page.Locator("#media-task")).ToHaveValueAsync("transcribe");
        await page.Locator("#media-task").SelectOptionAsync("analyze");
        await page.Locator("#media-run").TapAsync();
        await Expect(page.Locator("#media-result table")).ToContainTextAsync("Duration");
        await Expect(page.Locator("#media-result table")).ToContainTextAsync("audio");

        // A video from the camera input: frames are written to the device's space and shown as thumbnails.
        await page.Locator("#capture-video").SetInputFilesAsync(new FilePayload { Name = "clip.mp4", MimeType = "video/mp4", Buffer = await MediaProcessingTests.GenerateVideoAsync() });
        await Expect(page.Locator("#viewer-name")).ToHaveTextAsync(CapturedVideo());
        await Expect(page.Locator("#media-task")).ToHaveValueAsync("frames");
        await page.Locator("#media-run").TapAsync();
        await Expect(page.Locator("#media-result .frames img").First).ToHaveAttributeAsync("src", BlobUrl());
        Assert.True(await page.Locator("#media-result .frames img").First.EvaluateAsync<bool>("img => img.decode().then(() => img.naturalWidth > 0)"));

        // A QR code photo: the analysis lists the code's text.
        await page.Locator("#viewer-close").TapAsync();
        await page.Locator("#files-upload").SetInputFilesAsync(new FilePayload { Name = "qr.png", MimeType = "image/png", Buffer = MediaProcessingTests.QrPng("https://atlas.example/receipt/42") });
        await page.Locator("#files li.file .open", new() { HasText = "qr.png" }).TapAsync();
        await page.Locator("#media-task").SelectOptionAsync("analyze");
        await page.Locator("#media-run").TapAsync();
        await Expect(page.Locator("#media-result .codes")).ToContainTextAsync("https://atlas.example/receipt/42");
        await Expect(page.Locator("#media-result table")).ToContainTextAsync("Faces");
    }

    [Fact]
    public async Task OfflineShell_WithATrustedCertificate_TheAppOpensWithoutTheDesktop_AndShowsTheCachedListing()
    {
        var host = await AtlasTestHost.StartAsync();
        host.DeleteDataDirOnDispose = true;
        var stopped = false;
        try
        {
            var credentials = await host.PairAsync("Offline phone");
            Directory.CreateDirectory(RootOf(host, credentials));
            await File.WriteAllTextAsync(Path.Combine(RootOf(host, credentials), "readme.txt"), "hello", Ct);
            // The browser trusts exactly the desktop's certificate (its SPKI hash), as a phone that installed it would:
            // service workers refuse certificates that are only click-through accepted.
            var spki = Convert.ToBase64String(Convert.FromBase64String(host.Pin.Replace('-', '+').Replace('_', '/') + "="));
            var browser = await LaunchAsync($"--ignore-certificate-errors-spki-list={spki}");
            await using var _browser = browser;
            var (context, page) = await OpenPhoneAsync(host, credentials, browser, pinned: true);
            await using var _ = context;
            await page.EvaluateAsync("() => navigator.serviceWorker.ready");
            await Expect(page.Locator("#shell-note")).ToContainTextAsync("also opens offline");
            await OpenFilesAsync(page);
            await Expect(page.Locator("#files li .open")).ToHaveTextAsync("📄 readme.txt");

            await host.DisposeAsync(); // the desktop goes away
            stopped = true;
            await context.SetOfflineAsync(true);
            await page.ReloadAsync();
            await Expect(page.Locator("#status")).ToHaveAttributeAsync("data-state", DesktopUnreachable()); // the shell came from the cache
            await OpenFilesAsync(page);
            await Expect(page.Locator("#files li .open")).ToHaveTextAsync("📄 readme.txt");
            await Expect(page.Locator("#files-status")).ToContainTextAsync("Offline — the listing as of");
        }
        finally
        {
            if (!stopped)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task OfflineShell_WithTheSelfSignedCertificate_SaysHonestlyThatStartingNeedsTheDesktop()
    {
        await using var host = await AtlasTestHost.StartAsync();
        host.DeleteDataDirOnDispose = true;
        var (context, page) = await OpenPhoneAsync(host, await host.PairAsync("Phone"));
        await using var _ = context;
        await Expect(page.Locator("#shell-note")).ToContainTextAsync("does not trust the desktop's certificate");
    }

    [GeneratedRegex("^(offline|connecting)$")]
    private static partial Regex DesktopUnreachable();

    [GeneratedRegex("^blob:https://")]
    private static partial Regex BlobUrl();

    [GeneratedRegex(@"^voice-\d{8}T\d{6}\.(webm|ogg|m4a)$")]
    private static partial Regex VoiceNote();

    [GeneratedRegex(@"^video-\d{8}T\d{6}\.mp4$")]
    private static partial Regex CapturedVideo();

    [GeneratedRegex(@"^photo-\d{8}T\d{6}\.png$")]
    private static partial Regex CapturedPhoto();
}
