using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Chat;
using Atlas.Client.Connection;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>A real atlas host whose LLM endpoint is a <see cref="FakeOpenRouter"/>, with helpers to pair phones.</summary>
internal sealed class ChatHost : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private ChatHost(FakeOpenRouter fake, AtlasTestHost host)
    {
        Fake = fake;
        Host = host;
    }

    public FakeOpenRouter Fake { get; }

    public AtlasTestHost Host { get; private set; }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Dictionary<string, string?> Settings(FakeOpenRouter fake, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Atlas:Llm:BaseUrl"] = fake.BaseUrl.ToString(),
            ["Atlas:Llm:ApiKey"] = FakeOpenRouter.ApiKey,
            ["Atlas:Llm:MaxRetries"] = "0",
            ["Atlas:Llm:IdleTimeout"] = "00:00:20",
            ["Atlas:Chat:CheckpointInterval"] = "00:00:00.050",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Starts the fake provider and a host; <paramref name="prepare"/> may put files into the new data
    /// directory first (MCP server manifests in <c>registry/</c>); <paramref name="time"/> is Atlas's clock.</summary>
    public static async Task<ChatHost> StartAsync(IDictionary<string, string?>? settings = null, Func<string, Task>? prepare = null,
        TimeProvider? time = null, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        var fake = await FakeOpenRouter.StartAsync(Ct);
        var dataDir = AtlasTestHost.NewDataDir();
        if (prepare is not null)
        {
            await prepare(dataDir);
        }

        var host = await AtlasTestHost.StartAsync(Settings(fake, settings), time, dataDir, configure);
        host.DeleteDataDirOnDispose = true;
        return new ChatHost(fake, host);
    }

    /// <summary>Stops the host and starts a new one on the same data directory and settings (a desktop restart).</summary>
    public async Task RestartAsync(IDictionary<string, string?> settings)
    {
        var dataDir = Host.DataDir;
        var owned = Host.DeleteDataDirOnDispose;
        Host.DeleteDataDirOnDispose = false;
        await Host.DisposeAsync();
        Host = await AtlasTestHost.StartAsync(Settings(Fake, settings), dataDir: dataDir);
        Host.DeleteDataDirOnDispose = owned;
    }

    /// <summary>Pairs a phone (optionally with extra permissions) and opens a connection.</summary>
    public async Task<Phone> PhoneAsync(string name = "Phone", params string[] extraPermissions)
    {
        var client = await Host.PairClientAsync(name);
        if (extraPermissions.Length > 0)
        {
            var device = await Host.Get<DeviceService>().GetAsync(client.Credentials.DeviceId, Ct);
            await Host.Get<DeviceService>().SetPermissionsAsync(device.Id, [.. device.Permissions, .. extraPermissions], null, Ct);
            client.InvalidateSession();
        }

        var connection = await client.ConnectAsync(Ct);
        var phone = new Phone(client, connection, new AtlasChat(connection));
        _owned.Add(phone);
        return phone;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        await Host.DisposeAsync();
        await Fake.DisposeAsync();
    }

    /// <summary>A reply of <paramref name="count"/> deltas that pauses at <paramref name="gate"/> after the first half.</summary>
    public static FakeReply Gated(TaskCompletionSource reached, TaskCompletionSource gate, int count = 10)
    {
        var reply = FakeReply.Stream().Comment().Role();
        for (var i = 0; i < count; i++)
        {
            if (i == count / 2)
            {
                reply.Signal(reached).Gate(gate).Comment();
            }

            reply.Delta($"w{i} ");
        }

        return reply.Finish("stop").Usage(10, count, 0.0002m).Done();
    }

    public static string GatedText(int count = 10) => string.Concat(Enumerable.Range(0, count).Select(i => $"w{i} "));

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static ChatMessageRequest Message(string text, string? conversationId = null, string? model = null) =>
        new() { Text = text, ConversationId = conversationId, Model = model };

    /// <summary>Reads a whole stream.</summary>
    public static async Task<List<ChatEvent>> AllAsync(IAsyncEnumerable<ChatEvent> events)
    {
        var list = new List<ChatEvent>();
        await foreach (var e in events.WithCancellation(Ct))
        {
            list.Add(e);
        }

        return list;
    }

    public static string Text(IEnumerable<ChatEvent> events) => string.Concat(events.Where(e => e.Kind == ChatEventKinds.Delta).Select(e => e.Delta));

    /// <summary>Asserts seq runs 1, 2, … with no gap or repeat.</summary>
    public static void AssertContiguous(IReadOnlyList<ChatEvent> events, long from = 1)
    {
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(from + i, events[i].Seq);
        }
    }

    public async Task<HttpResponseMessage> PostMessageAsync(AtlasClient client, string id, string body, long? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/message")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", id);
        if (lastEventId is { } seq)
        {
            request.Headers.Add("Last-Event-ID", seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return await client.SendAsync(request, Ct);
    }

    /// <summary>Reads SSE <c>chat_response</c> events from a response body (stopping after <paramref name="take"/>).</summary>
    public static async Task<List<(long Id, AtlasEnvelope Frame)>> ReadSseAsync(HttpResponseMessage response, int take = int.MaxValue)
    {
        var result = new List<(long, AtlasEnvelope)>();
        await using var stream = await response.Content.ReadAsStreamAsync(Ct);
        using var reader = new StreamReader(stream);
        long id = 0;
        string? line;
        while (result.Count < take && (line = await reader.ReadLineAsync(Ct)) is not null)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                result.Add((id, JsonSerializer.Deserialize(line[6..], AtlasJsonContext.Default.AtlasEnvelope)!));
            }
        }

        return result;
    }
}

internal sealed record Phone(AtlasClient Client, AtlasConnection Connection, AtlasChat Chat) : IAsyncDisposable
{
    public string DeviceId => Client.Credentials.DeviceId;

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        Client.Dispose();
    }
}
