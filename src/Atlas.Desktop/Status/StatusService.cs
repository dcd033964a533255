using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Status;

/// <summary>Adds one top-level section to <c>status_update</c> (LLM, hub servers, jobs, …). Register more with DI;
/// call <see cref="StatusService.PublishAsync"/> when the state behind a section changes.</summary>
internal interface IStatusContributor
{
    /// <summary>The section name (a JSON property of the <c>status_update</c> data).</summary>
    string Name { get; }

    ValueTask<JsonNode?> GetAsync(string deviceId, CancellationToken cancellationToken);
}

/// <summary>Builds <c>status_update</c> payloads and pushes them to live sockets.</summary>
internal sealed class StatusService
{
    private readonly IEnumerable<IStatusContributor> _contributors;
    private readonly ConnectionRegistry _connections;

    public StatusService(IEnumerable<IStatusContributor> contributors, ConnectionRegistry connections)
    {
        _contributors = contributors;
        _connections = connections;
    }

    public async Task<JsonElement> BuildAsync(DeviceRecord device, CancellationToken cancellationToken)
    {
        var data = new JsonObject
        {
            ["permissions"] = new JsonArray([.. device.Permissions.Select(p => JsonValue.Create(p))]),
            ["quotaBytes"] = device.QuotaBytes,
        };
        foreach (var contributor in _contributors)
        {
            data[contributor.Name] = await contributor.GetAsync(device.Id, cancellationToken).ConfigureAwait(false);
        }

        using var document = JsonDocument.Parse(data.ToJsonString());
        return document.RootElement.Clone();
    }

    /// <summary>Sends a fresh <c>status_update</c> to the live sockets of one device, or of all when null.</summary>
    public async Task PublishAsync(string? deviceId, CancellationToken cancellationToken = default)
    {
        foreach (var connection in _connections.Snapshot(deviceId))
        {
            var data = await BuildAsync(connection.Device, cancellationToken).ConfigureAwait(false);
            connection.Send(new Atlas.Client.Protocol.AtlasEnvelope { Type = Atlas.Client.Protocol.MessageTypes.StatusUpdate, Data = data });
        }
    }
}

/// <summary><c>llm</c>: whether chat can work, the endpoint kind and default model, and this device's running
/// generations (the key itself never leaves the desktop).</summary>
internal sealed class LlmStatusContributor : IStatusContributor
{
    private readonly AtlasOptions _options;
    private readonly Chat.Generations.GenerationManager _generations;

    public LlmStatusContributor(IOptions<AtlasOptions> options, Chat.Generations.GenerationManager generations)
    {
        _options = options.Value;
        _generations = generations;
    }

    public string Name => "llm";

    public ValueTask<JsonNode?> GetAsync(string deviceId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<JsonNode?>(new JsonObject
        {
            ["configured"] = _options.Llm.IsConfigured,
            ["provider"] = _options.Llm.IsOpenRouter ? "openrouter" : "openai-compatible",
            ["defaultModel"] = _options.Llm.Model,
            ["activeGenerations"] = _generations.ActiveCountFor(deviceId),
        });
}
