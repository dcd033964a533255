using System.Collections.Concurrent;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Chat.Generations;

/// <summary>The generations in memory: running ones and recently finished ones (kept for exact replay during
/// <c>Atlas:Chat:ReplayWindow</c>). At start it marks what a crash left streaming as interrupted; at shutdown it stops
/// running generations as interrupted and waits until their text is saved, so a restart loses and duplicates
/// nothing.</summary>
internal sealed class GenerationManager : BackgroundService
{
    private static readonly TimeSpan ShutdownWait = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan CancelWait = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, Generation> _byMessage = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Generation> _byRequest = new(StringComparer.Ordinal);
    private readonly IConversationStore _store;
    private readonly ChatFeatureOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<GenerationManager> _logger;

    public GenerationManager(IConversationStore store, IOptions<AtlasOptions> options, AtlasTime time, ILogger<GenerationManager> logger,
        Devices.DeviceLifetimes devices)
    {
        // A revoked device's answers stop at once (nothing more is billed for it), as its streams and requests do.
        devices.Revoked += StopDevice;
        _store = store;
        _options = options.Value.Chat;
        _time = time.Provider;
        _logger = logger;
    }

    public int ActiveCount => _byMessage.Values.Count(g => !g.IsTerminal);

    public int ActiveCountFor(string deviceId) => _byMessage.Values.Count(g => g.DeviceId == deviceId && !g.IsTerminal);

    public void Register(Generation generation)
    {
        _byMessage[generation.MessageId] = generation;
        _byRequest[Key(generation.DeviceId, generation.RequestId)] = generation;
    }

    /// <summary>The generation of <paramref name="messageId"/> if it belongs to <paramref name="deviceId"/> (another
    /// device's message is reported as missing, never revealed).</summary>
    public Generation? Find(string deviceId, string messageId) =>
        _byMessage.TryGetValue(messageId, out var generation) && generation.DeviceId == deviceId ? generation : null;

    public Generation? FindByRequest(string deviceId, string requestId) =>
        _byRequest.TryGetValue(Key(deviceId, requestId), out var generation) ? generation : null;

    /// <summary>The conversation's generations that have not finished: still streaming, or ended and still being saved
    /// (<see cref="Generation.Finished"/> completes only once the final state is in the database).</summary>
    public IReadOnlyList<Generation> Running(string deviceId, string conversationId) =>
        [.. _byMessage.Values.Where(g => g.DeviceId == deviceId && g.ConversationId == conversationId && !g.Finished.IsCompleted)];

    /// <summary>Waits until the generations have ended and are saved, for up to five seconds: a stop that takes longer
    /// (a tool call that ignores cancellation) is left to finish on its own, and the caller reports where it is now.</summary>
    public async Task WaitFinishedAsync(IReadOnlyList<Generation> generations, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(generations.Select(g => g.Finished)).WaitAsync(CancelWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Stopping takes longer than usual; the answer says where it is now.
        }
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var interrupted = await _store.MarkInterruptedAsync(_time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (interrupted > 0)
        {
            ChatLog.RecoveredInterrupted(_logger, interrupted);
        }

        await _store.PruneRequestsAsync(_time.GetUtcNow() - _options.RequestRetention, cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Sweep();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    /// <summary>Forgets finished generations older than the replay window (later resumes are answered from the store).</summary>
    internal void Sweep()
    {
        var now = _time.GetUtcNow();
        foreach (var generation in _byMessage.Values)
        {
            if (generation.Finished.IsCompleted && generation.CompletedAt is { } done && done + _options.ReplayWindow <= now)
            {
                _byMessage.TryRemove(generation.MessageId, out _);
                _byRequest.TryRemove(Key(generation.DeviceId, generation.RequestId), out _);
            }
        }
    }

    /// <summary>Stops every running generation of a device (it was revoked) as cancelled; each saves what it received.</summary>
    public void StopDevice(string deviceId)
    {
        foreach (var generation in _byMessage.Values.Where(g => g.DeviceId == deviceId))
        {
            generation.RequestStop(ChatStatus.Cancelled);
        }
    }

    /// <summary>Stops every running generation as interrupted (a graceful shutdown has begun); each saves what it
    /// received and ends its readers with the final event.</summary>
    public void InterruptAll()
    {
        foreach (var generation in _byMessage.Values)
        {
            generation.RequestStop(ChatStatus.Interrupted);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        InterruptAll();
        var running = _byMessage.Values.Where(g => !g.Finished.IsCompleted).Select(g => g.Finished).ToList();
        try
        {
            await Task.WhenAll(running).WaitAsync(ShutdownWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // What is not saved now is marked interrupted at the next start.
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Key(string deviceId, string requestId) => deviceId + "\n" + requestId;
}
