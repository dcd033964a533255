using System.Net;
using System.Text.Json;
using Atlas.Client;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Tests.Infrastructure;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol.Protocol;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Admin;

/// <summary>The admin API behind the live admin page (issue 9, desktop side): the event stream, the LLM card, a lazily
/// started server's state, and a desktop without notify-send.</summary>
public sealed class AdminLiveTests
{
    /// <summary>The signed-in page's event stream says "ready", then names "devices" when a phone waits for approval;
    /// without the admin cookie the stream is refused.</summary>
    [Fact]
    [Trait("Issue9", "first-run")]
    public async Task Events_PhoneWaitsForApproval_StreamNamesDevices_AndNeedsTheAdminCookie()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:Pairing:Approval"] = "prompt",
            ["Atlas:Notifications:Desktop"] = "false",
        });
        using (var anonymous = AdminClient.NewHttp(host))
        using (var refused = await anonymous.GetAsync("admin/api/events", HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var admin = await AdminClient.SignInAsync(host);
        using var stream = await admin.OpenStreamAsync("events");
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(Ct));
        Assert.Contains("ready", await NextDataAsync(reader), StringComparison.Ordinal);

        var link = await host.NewLinkAsync();
        var waiting = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pairing = AtlasClient.PairAsync(link, "Live phone", "android", code => waiting.TrySetResult(code), AtlasTestHost.ClientOptions(), Ct);
        await waiting.Task.WaitAsync(TestTimeouts.Default, Ct);
        string data;
        do
        {
            data = await NextDataAsync(reader);
        }
        while (!data.Contains("\"devices\"", StringComparison.Ordinal));

        var device = (await admin.GetAsync("state")).GetProperty("devices").EnumerateArray().Single();
        Assert.Equal("pending", device.GetProperty("status").GetString());
        await admin.PostAsync($"devices/{device.GetProperty("id").GetString()}/approve");
        await pairing.WaitAsync(TestTimeouts.Default, Ct);
    }

    /// <summary>The LLM card reports the provider and model, what answers cost today and in total (as the chat pipeline
    /// recorded them), and the last failed answer with its reason.</summary>
    [Fact]
    [Trait("Issue9", "admin")]
    public async Task Llm_AfterAnAnswerAndAFailure_ReportsModelSpendAndLastError()
    {
        await using var chat = await StartAsync();
        using var admin = await AdminClient.SignInAsync(chat.Host);
        var before = await admin.GetAsync("llm");
        Assert.True(before.GetProperty("configured").GetBoolean());
        Assert.Equal(0, before.GetProperty("total").GetProperty("answers").GetInt32());
        Assert.False(before.TryGetProperty("lastError", out _));

        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(FakeReply.Text("Hello there, friend", cost: 0.0025m));
        await AllAsync(phone.Chat.SendAsync(Message("hi"), cancellationToken: Ct));
        chat.Fake.Enqueue(FakeReply.Error(400, "No endpoints found for this model"));
        await AllAsync(phone.Chat.SendAsync(Message("again"), cancellationToken: Ct));

        var view = await admin.GetAsync("llm");
        Assert.Equal("openai-compatible", view.GetProperty("provider").GetString());
        Assert.False(string.IsNullOrEmpty(view.GetProperty("model").GetString()));
        Assert.Equal(2, view.GetProperty("today").GetProperty("answers").GetInt32());
        Assert.True(view.GetProperty("today").GetProperty("tokens").GetInt64() > 0);
        Assert.Equal(0.0025, view.GetProperty("today").GetProperty("cost").GetDouble(), 6);
        Assert.Equal(0.0025, view.GetProperty("total").GetProperty("cost").GetDouble(), 6);
        Assert.True(view.TryGetProperty("lastAnswerAt", out _));
        var error = view.GetProperty("lastError");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("code").GetString()));
        Assert.Contains("No endpoints found", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>An app announced with an on-demand launch is listed from its snapshot without being started, and shows
    /// as "idle" (the page says "starts on first use"), not "disconnected" or "failed".</summary>
    [Fact]
    [Trait("Issue9", "admin")]
    public async Task Servers_OnDemandAppNotRunning_IsIdle_AndListedFromItsSnapshot()
    {
        var dataDir = AtlasTestHost.NewDataDir();
        await WriteOnDemandServerAsync(dataDir);
        await using var host = await AtlasTestHost.StartAsync(dataDir: dataDir);
        host.DeleteDataDirOnDispose = true;
        using var admin = await AdminClient.SignInAsync(host);

        var server = (await admin.GetAsync("servers")).GetProperty("servers").EnumerateArray().Single();
        Assert.Equal((OnDemand, "idle", 1), (server.GetProperty("id").GetString(), server.GetProperty("state").GetString(), server.GetProperty("toolCount").GetInt32()));
        Assert.Equal("snapshot", server.GetProperty("listSource").GetString());
        Assert.False(File.Exists(Path.Combine(dataDir, "launched")));
    }

    /// <summary>Without the notification command the desktop pairs as before: the notification is skipped quietly
    /// and the phone still waits for approval.</summary>
    [Fact]
    [Trait("Issue9", "first-run")]
    public async Task Notifications_CommandNotInstalled_SkippedQuietly_AndThePhoneStillWaitsForApproval()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:Pairing:Approval"] = "prompt",
            ["Atlas:Notifications:Command"] = "atlas-test-no-such-notify-send",
        });
        var waited = new TaskCompletionSource<Atlas.Desktop.Storage.DeviceRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        var alerts = host.Get<ApprovalAlerts>();
        alerts.Waiting += d => waited.TrySetResult(d);
        var waiting = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pairing = AtlasClient.PairAsync(await host.NewLinkAsync(), "Quiet phone", "android", code => waiting.TrySetResult(code),
            AtlasTestHost.ClientOptions(), Ct);
        var code = await waiting.Task.WaitAsync(TestTimeouts.Default, Ct);
        var device = await waited.Task.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(code, device.CheckCode);
        await alerts.LastNotification.WaitAsync(TestTimeouts.Default, Ct);

        await host.Get<Atlas.Desktop.Devices.DeviceService>().ApproveAsync(device.Id, Ct);
        await pairing.WaitAsync(TestTimeouts.Default, Ct);
    }

    internal const string OnDemand = "io.example.ondemand";

    /// <summary>A manifest for an app reached over a socket that is not listening, started on demand by a launch
    /// command that would leave a mark, with a one-tool capability snapshot.</summary>
    internal static async Task WriteOnDemandServerAsync(string dataDir)
    {
        var registry = Path.Combine(dataDir, "registry");
        Directory.CreateDirectory(registry);
        await ManifestWriter.WriteFileAsync(new ServerManifest
        {
            Id = OnDemand,
            Name = "On demand",
            Description = "An app started when a tool is first used",
            Version = "1.0.0",
            Transport = new SocketTransport { Path = Path.Combine(dataDir, "ondemand.sock") },
            Launch = new LaunchSpec { Command = "/bin/sh", Args = ["-c", $"touch '{Path.Combine(dataDir, "launched")}'"] },
            Capabilities = new CapabilitySnapshot
            {
                Tools = [new Tool { Name = "hello", Description = "Says hello", InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement }],
            },
        }, RegistryPaths.GetManifestPath(registry, OnDemand), Ct);
    }

    private static async Task<string> NextDataAsync(StreamReader reader)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Default);
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line[6..];
            }
        }

        throw new Xunit.Sdk.XunitException("The event stream ended.");
    }
}
