// Atlas chat benchmark: the latency a chat delta gains on its way from the provider to the phone through atlas
// (provider SSE → stream guard → OpenAI SDK → generation buffer → WSS frame → the .NET client), against a baseline of
// the same fake provider streamed directly to a client in the same process, in the same run. Each delta carries the
// Stopwatch timestamp of its write; the reader subtracts it on arrival. Then the same with concurrent generations
// (one paired phone each). Loopback only; bounded counts.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Client;
using Atlas.Client.Chat;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Pairing;
using Atlas.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var cli = Bench.BenchArgs.Parse(args, """
    Usage: Atlas.Chat.Bench [DELTAS] [ROUNDS]
      DELTAS       deltas per answer (default 200)
      ROUNDS       sequential answers (default 5)
      -h, --help   this text
    """, positional: 2);
if (cli.Exit is { } exit)
{
    return exit;
}

var deltas = cli.Positional(0, 200);
var rounds = cli.Positional(1, 5);
int[] concurrency = [1, 8, 32];
var interval = TimeSpan.FromMilliseconds(2);
Console.WriteLine($"Atlas chat bench: {deltas} deltas per answer every {interval.TotalMilliseconds} ms, {rounds} sequential answers, concurrency {string.Join("/", concurrency)}, {Environment.ProcessorCount} cores");

await using var fake = await FakeOpenRouter.StartAsync();
fake.Responder = _ =>
{
    var reply = FakeReply.Stream().Comment().Role();
    for (var i = 0; i < deltas; i++)
    {
        reply.Delay(interval).DeltaFrom(() => "t" + Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture) + ";");
    }

    return reply.Finish("stop").Usage(10, deltas, 0.0001m).Done();
};

var dataDir = Path.Combine(Path.GetTempPath(), "atl-chat-bench-" + Guid.NewGuid().ToString("N")[..8]);
var atlas = AtlasApp.Build([], new Dictionary<string, string?>
{
    ["Atlas:DataDir"] = dataDir,
    ["Atlas:Port"] = "0",
    ["Atlas:Network:Lan"] = "false",
    ["Atlas:Pairing:Approval"] = "auto",
    ["Atlas:RateLimits:AuthPerMinute"] = "1000000",
    ["Atlas:RateLimits:RequestsPerMinute"] = "1000000",
    ["Atlas:Pairing:MaxFailures"] = "1000000",
    ["Atlas:Llm:BaseUrl"] = fake.BaseUrl.ToString(),
    ["Atlas:Llm:ApiKey"] = FakeOpenRouter.ApiKey,
    ["Atlas:Hub:ImportClientConfigs"] = "false",
    ["Atlas:Hub:RegistryDirectories:0"] = Path.Combine(dataDir, "registry"),
    ["Logging:LogLevel:Default"] = "Warning",
}, builder => builder.Logging.ClearProviders());
await atlas.StartAsync();

try
{
    var desktop = atlas.Services.GetRequiredService<DesktopInfo>();
    var pairing = atlas.Services.GetRequiredService<PairingService>();
    var phones = new List<(AtlasClient Client, Atlas.Client.Connection.AtlasConnection Connection, AtlasChat Chat)>();
    for (var i = 0; i < concurrency.Max(); i++)
    {
        var link = PairingLink.Parse((await pairing.CreateTicketAsync(CancellationToken.None)).Url);
        var credentials = await AtlasClient.PairAsync(link, $"bench phone {i}", "dotnet");
        var client = new AtlasClient(credentials);
        var connection = await client.ConnectAsync();
        phones.Add((client, connection, new AtlasChat(connection)));
    }

    using var direct = new HttpClient { BaseAddress = new Uri(fake.BaseUrl + "/") };
    direct.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", FakeOpenRouter.ApiKey);

    // Warm up both paths (JIT, TLS, SQLite pages, connection pools).
    await DirectAsync(direct, new List<double>());
    await ThroughAtlasAsync(phones[0].Chat, new List<double>());

    Console.WriteLine();
    Console.WriteLine("| answers at once | path | deltas | p50 ms | p99 ms | added p50 ms | added p99 ms |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    foreach (var parallel in concurrency)
    {
        var baseline = new List<double>();
        var full = new List<double>();
        for (var round = 0; round < (parallel == 1 ? rounds : 1); round++)
        {
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => DirectAsync(direct, baseline)));
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(p => ThroughAtlasAsync(phones[p].Chat, full)));
        }

        var (b50, b99) = (Percentile(baseline, 50), Percentile(baseline, 99));
        var (f50, f99) = (Percentile(full, 50), Percentile(full, 99));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {parallel} | provider → client (baseline) | {baseline.Count} | {b50:0.000} | {b99:0.000} | | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {parallel} | provider → atlas → phone | {full.Count} | {f50:0.000} | {f99:0.000} | {f50 - b50:0.000} | {f99 - b99:0.000} |"));
    }

    foreach (var phone in phones)
    {
        await phone.Connection.DisposeAsync();
        phone.Client.Dispose();
    }
}
finally
{
    await atlas.StopAsync();
    await atlas.DisposeAsync();
    Directory.Delete(dataDir, recursive: true);
}

return 0;

// The baseline client: the provider's SSE read directly over loopback HTTP, each delta parsed from its JSON chunk.
static async Task DirectAsync(HttpClient http, List<double> samples)
{
    var body = new JsonObject
    {
        ["model"] = "openai/gpt-4o-mini",
        ["stream"] = true,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "go" }),
    };
    using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = JsonContent.Create(body) };
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    await using var stream = await response.Content.ReadAsStreamAsync();
    using var reader = new StreamReader(stream);
    var local = new List<double>();
    while (await reader.ReadLineAsync() is { } line)
    {
        if (!line.StartsWith("data: {", StringComparison.Ordinal))
        {
            continue;
        }

        using var chunk = JsonDocument.Parse(line.AsMemory(6));
        var choices = chunk.RootElement.GetProperty("choices");
        if (choices.GetArrayLength() > 0 && choices[0].GetProperty("delta").TryGetProperty("content", out var content))
        {
            Record(content.GetString(), local);
        }
    }

    lock (samples)
    {
        samples.AddRange(local);
    }
}

// The phone: the .NET client reading chat_response frames from atlas over WSS.
static async Task ThroughAtlasAsync(AtlasChat chat, List<double> samples)
{
    var local = new List<double>();
    await foreach (var e in chat.SendAsync(new ChatMessageRequest { Text = "go" }))
    {
        if (e.Kind == ChatEventKinds.Delta)
        {
            Record(e.Delta, local);
        }
    }

    lock (samples)
    {
        samples.AddRange(local);
    }
}

static void Record(string? text, List<double> samples)
{
    if (text is ['t', .. var stamp] && long.TryParse(stamp.TrimEnd(';'), NumberStyles.None, CultureInfo.InvariantCulture, out var sent))
    {
        samples.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
    }
}

static double Percentile(List<double> samples, double p)
{
    var sorted = samples.Order().ToArray();
    return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
