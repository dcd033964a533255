using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Connect;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Connect;

/// <summary><c>atlas connect</c> as a real child process against a real desktop over TLS and the fake OpenRouter.</summary>
[Trait("Speed", "slow")]
public sealed class ConnectCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> PairingUrlAsync(AtlasTestHost host) =>
        (await host.Get<PairingService>().CreateTicketAsync(Ct)).Url;

    private static string DeviceIdOf(ConnectProcess connect) =>
        JsonDocument.Parse(File.ReadAllText(connect.CredentialsPath!)).RootElement.GetProperty("deviceId").GetString()!;

    [Fact]
    public async Task Connect_PairingLinkThenStoredCredential_PairsAndStreamsAnswers()
    {
        await using var chat = await ChatHost.StartAsync();
        using var connect = new ConnectProcess();

        var first = await connect.RunAsync([await PairingUrlAsync(chat.Host), "--name", "terminal", "--message", "Hello there"]);

        Assert.Equal(ExitCodes.Ok, first.ExitCode);
        Assert.Equal("Echo: Hello there" + Environment.NewLine, first.Stdout[first.Stdout.IndexOf("Echo:", StringComparison.Ordinal)..]);
        Assert.Contains("Paired as dev_", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(connect.CredentialsPath!));
        var device = await chat.Host.Get<DeviceService>().GetAsync(DeviceIdOf(connect), Ct);
        Assert.Equal("terminal", device.Name);

        // Later runs need no link: the stored credential is used; --json prints one event per line.
        var second = await connect.RunAsync(["--message", "Again", "--json"]);

        Assert.Equal(ExitCodes.Ok, second.ExitCode);
        var events = second.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize(line, AtlasJsonContext.Default.ChatEvent)!).ToList();
        Assert.Equal(ChatEventKinds.Start, events[0].Kind);
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
        Assert.Equal("Echo: Again", ChatHost.Text(events));
        ChatHost.AssertContiguous(events);
        Assert.Equal(2, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Connect_LinkWithAnotherCertificatePin_RefusedBeforeTheTicketIsUsed()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var connect = new ConnectProcess();
        var url = await PairingUrlAsync(host);
        var fp = url[(url.IndexOf("&fp=", StringComparison.Ordinal) + 4)..].Split('&')[0];
        var forged = url.Replace(fp, Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)), StringComparison.Ordinal);

        var refused = await connect.RunAsync([forged, "--json"]);

        Assert.Equal(ExitCodes.CertificateMismatch, refused.ExitCode);
        Assert.Contains("does not have the certificate key", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"certificate_mismatch\"", refused.Stdout, StringComparison.Ordinal);
        Assert.Null(connect.CredentialsPath);

        // Nothing reached the desktop: the genuine link still pairs.
        var paired = await connect.RunAsync([url, "--json"]);
        Assert.Equal(ExitCodes.Ok, paired.ExitCode);
        Assert.NotNull(connect.CredentialsPath);
    }

    [Fact]
    public async Task Connect_MalformedLink_UsageErrorSaysWhatIsWrong()
    {
        using var connect = new ConnectProcess();

        var result = await connect.RunAsync(["https://192.168.1.20:47321/pair#v=1&t=short"]);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("ticket (t)", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>An option atlas connect does not know is reported as such (regression: it was taken for the pairing link,
    /// "The pairing link must be an https:// address").</summary>
    [Fact]
    public async Task Connect_UnknownOption_SaysItIsUnknown()
    {
        using var connect = new ConnectProcess();

        var result = await connect.RunAsync(["--bogus"]);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("Unknown option '--bogus'", result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("pairing link", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_NotPaired_SaysHowToPair()
    {
        using var connect = new ConnectProcess();

        var result = await connect.RunAsync(["--message", "hi"]);

        Assert.Equal(ExitCodes.NotFound, result.ExitCode);
        Assert.Contains("atlas connect <pairing-url>", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_RevokedDevice_ExitsRevokedAndForgetsTheCredential()
    {
        await using var chat = await ChatHost.StartAsync();
        using var connect = new ConnectProcess();
        await connect.PairAsync(chat.Host);
        await chat.Host.Get<DeviceService>().RevokeAsync(DeviceIdOf(connect), deleteFiles: false, Ct);

        var result = await connect.RunAsync(["--message", "still there?"]);

        Assert.Equal(ExitCodes.Revoked, result.ExitCode);
        Assert.Contains("revoked", result.Stderr, StringComparison.Ordinal);
        Assert.Null(connect.CredentialsPath);
        Assert.Equal(0, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Connect_DesktopWithoutLlm_ExitsLlmNotConfigured()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Llm:ApiKey"] = "" });
        using var connect = new ConnectProcess();
        await connect.PairAsync(host);

        var result = await connect.RunAsync(["--message", "hi", "--json"]);

        Assert.Equal(ExitCodes.LlmNotConfigured, result.ExitCode);
        var error = JsonSerializer.Deserialize(result.Stdout.Trim(), AtlasJsonContext.Default.ErrorResponse)!;
        Assert.Equal(ErrorCodes.LlmNotConfigured, error.Error.Code);
    }

    [Fact]
    public async Task Connect_DeviceWithoutChatPermission_ExitsPermissionDenied()
    {
        await using var chat = await ChatHost.StartAsync();
        using var connect = new ConnectProcess();
        await connect.PairAsync(chat.Host);
        await chat.Host.Get<DeviceService>().SetPermissionsAsync(DeviceIdOf(connect), [Permissions.FilesRead], null, Ct);

        var result = await connect.RunAsync(["--message", "hi"]);

        Assert.Equal(ExitCodes.PermissionDenied, result.ExitCode);
        Assert.Equal(0, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Connect_DesktopUnreachable_ExitsUnreachable()
    {
        using var connect = new ConnectProcess();
        await using (var chat = await ChatHost.StartAsync())
        {
            await connect.PairAsync(chat.Host);
        }

        var result = await connect.RunAsync(["--message", "hi"]);

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains("cannot reach", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_MessageQueuedWhileDesktopDown_SentExactlyOnceWhenItIsBack()
    {
        await using var fake = await FakeOpenRouter.StartAsync(Ct);
        using var connect = new ConnectProcess();
        var (settings, dataDir) = await connect.PairWithStoppedDesktopAsync(fake);

        var queued = await connect.RunAsync(["--message", "written offline", "--queue"]);
        Assert.Equal(ExitCodes.Queued, queued.ExitCode);
        Assert.Contains("waits in the outbox", queued.Stderr, StringComparison.Ordinal);

        await using (var host = await AtlasTestHost.StartAsync(settings, dataDir: dataDir))
        {
            host.DeleteDataDirOnDispose = true;
            var back = await connect.RunAsync(["--message", "and now"]);
            var again = await connect.RunAsync(["--message", "once more"]);

            Assert.Equal(ExitCodes.Ok, back.ExitCode);
            Assert.Contains("Echo: written offline", back.Stdout, StringComparison.Ordinal);
            Assert.Contains("Echo: and now", back.Stdout, StringComparison.Ordinal);
            Assert.True(back.Stdout.IndexOf("written offline", StringComparison.Ordinal) < back.Stdout.IndexOf("and now", StringComparison.Ordinal));
            Assert.Equal(ExitCodes.Ok, again.ExitCode);
            Assert.DoesNotContain("written offline", again.Stdout, StringComparison.Ordinal);
            Assert.Single(fake.Requests, r => r.LastUserText == "written offline");
            Assert.Equal(3, fake.CompletionCount);
        }
    }

    [Fact]
    public async Task Connect_Interactive_PutFilesGetChatListAndStatus()
    {
        await using var chat = await ChatHost.StartAsync();
        using var connect = new ConnectProcess();
        await connect.PairAsync(chat.Host);
        var content = "líne one\nline two\n";
        await File.WriteAllTextAsync(Path.Combine(connect.WorkDir, "notes.txt"), content, Ct);

        var result = await connect.RunAsync([],
            "/put notes.txt docs/",
            "/put notes.txt docs/",
            "/files docs",
            "/get docs/notes.txt back.txt",
            "/get docs/notes.txt no-such-folder/back.txt",
            "/get docs/../../escape.txt",
            "What is in my notes?",
            "/list",
            "/status",
            "/bogus",
            "/quit");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var output = result.Stdout;
        Assert.Contains("Uploaded notes.txt to docs/notes.txt", output, StringComparison.Ordinal);
        Assert.Contains("already_exists", output, StringComparison.Ordinal);
        Assert.Contains("docs/notes.txt", output, StringComparison.Ordinal);
        Assert.Equal(content, await File.ReadAllTextAsync(Path.Combine(connect.WorkDir, "back.txt"), Ct));
        Assert.Contains($"The folder {Path.Combine(connect.WorkDir, "no-such-folder")} does not exist here", output, StringComparison.Ordinal);
        Assert.Contains("invalid_path", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(connect.WorkDir, "escape.txt")));
        Assert.Contains("Echo: What is in my notes?", output, StringComparison.Ordinal);
        Assert.Contains("1. What is in my notes?", output, StringComparison.Ordinal);
        Assert.Contains("Outbox:       0 waiting", output, StringComparison.Ordinal);
        Assert.Contains("Unknown command", output, StringComparison.Ordinal);
        var stored = await File.ReadAllBytesAsync(Path.Combine(chat.Host.DataDir, "files", DeviceIdOf(connect), "docs", "notes.txt"), Ct);
        Assert.Equal(content, System.Text.Encoding.UTF8.GetString(stored));
    }
}
