using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Atlas.Client;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>A graceful stop of a real <c>atlas serve</c> process (SIGTERM, as a service manager or Ctrl+C sends it) while
/// an answer streams: the stream ends cleanly, what was received is saved, and the process exits 0.</summary>
[Trait("Speed", "slow")]
public sealed partial class ShutdownTests
{
    /// <summary>Regression: SIGTERM or Ctrl+C (SIGINT) with a REST (SSE) chat stream open exited 143 after System
    /// .CommandLine's 2 s termination timeout, without the graceful save (the shutdown hook closed only WebSockets).</summary>
    [Theory]
    [Trait("Hardening", "9")]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Serve_StopSignalWithAnSseChatStreamOpen_EndsTheStreamSavesTheTextAndExitsZero(string signal)
    {
        await using var fake = await FakeOpenRouter.StartAsync(Ct);
        var reached = new TaskCompletionSource();
        fake.Enqueue(Gated(reached, new TaskCompletionSource())); // half the answer, then the provider stalls
        var dataDir = AtlasTestHost.NewDataDir();
        var port = FreePort();
        Process? serve = null;
        try
        {
            PairingLink link;
            (serve, link) = await StartServeAsync(dataDir, port, fake);
            var credentials = await AtlasClient.PairAsync(link, "shutdown", "dotnet", options: AtlasTestHost.ClientOptions(), cancellationToken: Ct);
            string conversationId;
            using (var client = new AtlasClient(credentials, AtlasTestHost.ClientOptions()))
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "chat/message")
                {
                    Content = new StringContent("""{"text":"stop while streaming"}""", Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("Idempotency-Key", "sse-stop");
                using var response = await client.SendAsync(request, Ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await using var body = await response.Content.ReadAsStreamAsync(Ct);
                using var reader = new StreamReader(body);
                var events = new List<ChatEvent>();
                while (events.Count(e => e.Kind == ChatEventKinds.Delta) < 5)
                {
                    events.Add(await NextEventAsync(reader) ?? throw new InvalidOperationException("The stream ended early."));
                }

                await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
                await SignalAsync(serve, signal);

                ChatEvent? next;
                while ((next = await NextEventAsync(reader)) is not null)
                {
                    events.Add(next);
                }

                conversationId = events[0].ConversationId!;
                Assert.Equal(GatedText(5), Text(events));
                Assert.Equal((ChatEventKinds.Error, ErrorCodes.Interrupted), (events[^1].Kind, events[^1].Error?.Code)); // the stream's clean end
            }

            using (var exit = CancellationTokenSource.CreateLinkedTokenSource(Ct))
            {
                exit.CancelAfter(TestTimeouts.Default);
                await serve.WaitForExitAsync(exit.Token);
            }

            Assert.Equal(0, serve.ExitCode);
            serve.Dispose();
            (serve, _) = await StartServeAsync(dataDir, port, fake);
            using var after = new AtlasClient(credentials, AtlasTestHost.ClientOptions());
            using var loaded = await after.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"chat/conversations/{conversationId}"), Ct);
            Assert.Equal(HttpStatusCode.OK, loaded.StatusCode);
            var conversation = JsonSerializer.Deserialize(await loaded.Content.ReadAsStringAsync(Ct), AtlasJsonContext.Default.ConversationResponse)!;
            var answer = conversation.Messages!.Single(m => m.Role == "assistant");
            Assert.Equal((ChatStatus.Interrupted, GatedText(5)), (answer.Status, answer.Content));
            Assert.Equal(1, fake.CompletionCount);
        }
        finally
        {
            if (serve is { HasExited: false })
            {
                serve.Kill(entireProcessTree: true);
                await serve.WaitForExitAsync(Ct);
            }

            serve?.Dispose();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<ChatEvent?> NextEventAsync(StreamReader reader)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Default);
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var frame = JsonSerializer.Deserialize(line[6..], AtlasJsonContext.Default.AtlasEnvelope)!;
                Assert.Equal(MessageTypes.ChatResponse, frame.Type);
                return frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent);
            }
        }

        return null;
    }

    private static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(Ct);
        Assert.Equal(0, kill.ExitCode);
    }

    private static async Task<(Process Process, PairingLink Link)> StartServeAsync(string dataDir, int port, FakeOpenRouter fake)
    {
        // 'env --default-signal=INT' execs dotnet with the same process id: a suite started in the background of a
        // non-interactive shell inherits SIGINT ignored, and .NET would leave it ignored, so Ctrl+C would never arrive.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(typeof(AtlasApp).Assembly.Location);
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--data-dir");
        start.ArgumentList.Add(dataDir);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        var settings = Settings(fake);
        settings["Atlas:Network:Lan"] = "false";
        settings["Atlas:Pairing:Approval"] = "auto";
        settings["Atlas:Media:RegisterMcpServer"] = "false";
        settings["Atlas:Hub:ImportClientConfigs"] = "false";
        settings["Atlas:Hub:RegistryDirectories:0"] = Path.Combine(dataDir, "registry");
        settings["Atlas:Hub:ConsentFile"] = Path.Combine(dataDir, "consent.json");
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(start)!;
        var link = new TaskCompletionSource<PairingLink>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && PairUrl().Match(line) is { Success: true } match)
            {
                link.TrySetResult(PairingLink.Parse(match.Value));
            }
        };
        process.ErrorDataReceived += (_, e) => TestContext.Current.TestOutputHelper?.WriteLine("serve: " + e.Data);
        process.Exited += (_, _) => link.TrySetException(new InvalidOperationException($"atlas serve exited with {process.ExitCode}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, await link.Task.WaitAsync(TestTimeouts.Default * 2, Ct));
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"https://\S+/pair#\S+")]
    private static partial Regex PairUrl();
}
