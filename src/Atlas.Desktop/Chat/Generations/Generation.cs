using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Chat.Generations;

/// <summary>
/// One assistant message being generated, owned by the desktop rather than by any connection: its numbered events
/// (<c>seq</c> 1, 2, …) in a bounded replay buffer, its state so far (text, tool activity), and the readers attached to
/// it. Readers come and go (a phone disconnects, another session joins, a client resumes); only
/// <see cref="RequestStop"/> stops the generation.
/// </summary>
#pragma warning disable CA1001 // _stop is disposed by CompleteAsync, the generation's one end.
internal sealed class Generation
#pragma warning restore CA1001
{
    private readonly Lock _lock = new();
    private readonly List<Buffered> _events = [];
    private readonly StringBuilder _content = new();
    private readonly List<ChatToolActivity> _tools = [];
    private readonly Dictionary<object, int> _attached = new(ReferenceEqualityComparer.Instance);

    // Per socket, the last seq it was sent of this message (by a broadcast or a reader): a broadcast event goes only to a
    // socket that has everything before it, so it can never overtake a replay or repeat one. Cleared when the
    // terminal event's broadcast is over (nothing is broadcast after it).
    private readonly Dictionary<object, long> _sent = new(ReferenceEqualityComparer.Instance);
    private bool _broadcastOver;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _maxBufferBytes;
    private readonly TimeProvider _time;
    // Readers resume inline on the appending thread (their work is a non-blocking hand-off to a socket's send queue or
    // an async write): one thread-pool hop less per delta, which is most of the latency atlas adds under load.
    private TaskCompletionSource _changed = new();
    private long _bufferedBytes;
    private long _lastSeq;
    private string _status = ChatStatus.Streaming;
    private string? _finishReason;
    private ChatUsage? _usage;
    private AtlasError? _error;
    private string? _stopReason;
    private bool _ended;

    public Generation(string messageId, string deviceId, string conversationId, string requestId, byte[] requestHash, string model,
        ChatMessageView userMessage, DateTimeOffset createdAt, int maxBufferBytes, TimeProvider time)
    {
        _time = time;
        StopToken = _stop.Token;
        MessageId = messageId;
        DeviceId = deviceId;
        ConversationId = conversationId;
        RequestId = requestId;
        RequestHash = requestHash;
        Model = model;
        UserMessage = userMessage;
        CreatedAt = createdAt;
        _maxBufferBytes = maxBufferBytes;
    }

    public string MessageId { get; }

    public string DeviceId { get; }

    public string ConversationId { get; }

    public string RequestId { get; }

    public byte[] RequestHash { get; }

    public string Model { get; }

    public ChatMessageView UserMessage { get; }

    public DateTimeOffset CreatedAt { get; }

    public DateTimeOffset? CompletedAt { get; private set; }

    /// <summary>Cancelled by <see cref="RequestStop"/> only; the provider request runs on this token.</summary>
    public CancellationToken StopToken { get; }

    /// <summary><c>cancelled</c> (chat_cancel) or <c>interrupted</c> (desktop shutdown), once a stop was requested.</summary>
    public string? StopReason
    {
        get
        {
            lock (_lock)
            {
                return _stopReason;
            }
        }
    }

    /// <summary>Completes when the terminal event is appended and the final state is saved.</summary>
    public Task Finished => _finished.Task;

    /// <summary>Called after each appended event with its seq, outside the lock (the broadcast to the device's other
    /// sessions, which asks <see cref="ClaimBroadcast"/> per socket).</summary>
    public Action<Generation, long, JsonElement>? OnEvent { get; set; }

    /// <summary>The device's concurrency slot for this answer (see <see cref="ChatLimiter"/>), freed when the final state
    /// is saved and before the terminal event goes out, so a client that saw the end can send its next message at once.</summary>
    public IDisposable? Permit { get; init; }

    public long LastSeq
    {
        get
        {
            lock (_lock)
            {
                return _lastSeq;
            }
        }
    }

    public string Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    public bool IsTerminal
    {
        get
        {
            lock (_lock)
            {
                return _status != ChatStatus.Streaming;
            }
        }
    }

    /// <summary>Whether <paramref name="reader"/> (a socket) is reading this generation now: it needs no broadcast copy.</summary>
    public bool IsAttached(object reader)
    {
        lock (_lock)
        {
            return _attached.ContainsKey(reader);
        }
    }

    /// <summary>Whether the broadcast copy of event <paramref name="seq"/> goes to <paramref name="socket"/>, recording it
    /// as sent when it does. It goes only to a socket that is not reading this message and was sent every event before
    /// it: event 1 (the <c>start</c>, the whole message so far) to any socket, later events only after the previous one
    /// (by broadcast, or by a request's stream that ended). A socket that came later gets nothing until it resumes, so
    /// broadcast frames never overtake its replay, and nothing reaches a socket twice (a resumed socket gets
    /// <c>done</c> once).</summary>
    public bool ClaimBroadcast(object socket, long seq)
    {
        lock (_lock)
        {
            if (_broadcastOver || _attached.ContainsKey(socket) || _sent.GetValueOrDefault(socket) != seq - 1)
            {
                return false;
            }

            _sent[socket] = seq;
            return true;
        }
    }

    /// <summary>Numbers a non-terminal <paramref name="chatEvent"/>, applies it to the state, buffers it and wakes the
    /// readers.</summary>
    /// <returns>The event as sent on the wire.</returns>
    public JsonElement Append(ChatEvent chatEvent)
    {
        ArgumentNullException.ThrowIfNull(chatEvent);
        if (ChatEventKinds.IsTerminal(chatEvent.Kind))
        {
            throw new ArgumentException("A terminal event ends the generation through CompleteAsync.", nameof(chatEvent));
        }

        JsonElement element;
        lock (_lock)
        {
            element = NumberLocked(chatEvent);
        }

        Publish(element, chatEvent.Seq, EstimateBytes(chatEvent), end: false);
        return element;
    }

    /// <summary>Ends the generation with <paramref name="terminal"/>: the final state is saved first and only then is
    /// the terminal event sent, so a client that saw <c>done</c> and reloads the conversation finds it done.</summary>
    public async Task CompleteAsync(ChatEvent terminal, Func<ChatMessageView, Task> save)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        ArgumentNullException.ThrowIfNull(save);
        JsonElement element;
        ChatMessageView view;
        lock (_lock)
        {
            element = NumberLocked(terminal);
            view = ToViewLocked();
        }

        try
        {
            await save(view).ConfigureAwait(false);
        }
        finally
        {
            Permit?.Dispose();
            Publish(element, terminal.Seq, EstimateBytes(terminal), end: true);
            _finished.TrySetResult();
            _stop.Dispose();
        }
    }

    private JsonElement NumberLocked(ChatEvent chatEvent)
    {
        if (_status != ChatStatus.Streaming)
        {
            throw new InvalidOperationException($"Generation {MessageId} already ended ({_status}).");
        }

        chatEvent.MessageId = MessageId;
        chatEvent.Seq = ++_lastSeq;
        Apply(chatEvent);
        return JsonSerializer.SerializeToElement(chatEvent, AtlasJsonContext.Default.ChatEvent);
    }

    private void Publish(JsonElement element, long seq, int bytes, bool end)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _events.Add(new Buffered(seq, element, bytes));
            _bufferedBytes += bytes;
            while (_bufferedBytes > _maxBufferBytes && _events.Count > 1)
            {
                // Oldest first; a reader that needs an evicted event gets a snapshot instead.
                _bufferedBytes -= _events[0].Bytes;
                _events.RemoveAt(0);
            }

            _ended |= end;
            changed = _changed;
            _changed = new TaskCompletionSource();
        }

        changed.TrySetResult();
        OnEvent?.Invoke(this, seq, element);
        if (end)
        {
            lock (_lock)
            {
                _broadcastOver = true;
                _sent.Clear();
            }
        }
    }

    /// <summary>Asks the generation to stop (closing the provider request); false when it already ended.</summary>
    public bool RequestStop(string reason)
    {
        lock (_lock)
        {
            if (_status != ChatStatus.Streaming || _stopReason is not null)
            {
                return _status == ChatStatus.Streaming;
            }

            _stopReason = reason;
        }

        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It ended between the check and the cancel.
        }

        return true;
    }

    /// <summary>The events after <paramref name="afterSeq"/>, then live ones until the terminal event. When some of
    /// the missing events are no longer buffered, a snapshot of the whole message comes first instead. A reader that
    /// already has everything of an ended message gets its terminal event again, so a request always ends with one.
    /// Each event is recorded as sent to <paramref name="reader"/> once the consumer asks for the next one (it has
    /// handed this one to its socket), so broadcasts continue after it without a gap or a repeat.</summary>
    /// <param name="afterSeq">The last sequence number the reader has.</param>
    /// <param name="reader">The socket (or request) reading, so broadcasts skip it; may be null.</param>
    /// <param name="cancellationToken">The reader went away (the generation goes on).</param>
    public async IAsyncEnumerable<JsonElement> ReadAsync(long afterSeq, object? reader,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Attach(reader, +1);
        try
        {
            var batch = new List<(JsonElement Element, long Seq)>();
            var any = false;
            while (true)
            {
                Task wait;
                bool terminal;
                lock (_lock)
                {
                    batch.Clear();
                    var published = _events.Count > 0 ? _events[^1].Seq : 0;
                    var firstBuffered = _events.Count > 0 ? _events[0].Seq : published + 1;
                    if (afterSeq < firstBuffered - 1)
                    {
                        batch.Add((JsonSerializer.SerializeToElement(SnapshotLocked(), AtlasJsonContext.Default.ChatEvent), published));
                        afterSeq = published;
                    }
                    else
                    {
                        var start = (int)(afterSeq - firstBuffered + 1);
                        for (var i = Math.Max(0, start); i < _events.Count; i++)
                        {
                            batch.Add((_events[i].Element, _events[i].Seq));
                        }

                        afterSeq = Math.Max(afterSeq, published);
                    }

                    terminal = _ended;
                    if (terminal && !any && batch.Count == 0)
                    {
                        batch.Add((_events[^1].Element, _events[^1].Seq)); // resumed at the last seq: the end again
                    }

                    wait = _changed.Task;
                }

                foreach (var (element, seq) in batch)
                {
                    any = true;
                    yield return element;
                    Delivered(reader, seq);
                }

                if (terminal)
                {
                    yield break;
                }

                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Attach(reader, -1);
        }
    }

    /// <summary>The whole message so far as one event (its <c>seq</c> is the last event's).</summary>
    public ChatEvent Snapshot()
    {
        lock (_lock)
        {
            return SnapshotLocked();
        }
    }

    /// <summary>The message as stored.</summary>
    public ChatMessageView ToView()
    {
        lock (_lock)
        {
            return ToViewLocked();
        }
    }

    private ChatMessageView ToViewLocked() => new()
    {
        Id = MessageId,
        Role = "assistant",
        Content = _content.ToString(),
        Status = _status,
        CreatedAt = CreatedAt,
        CompletedAt = CompletedAt,
        Model = Model,
        FinishReason = _finishReason,
        Usage = _usage,
        Error = _error,
        Tools = _tools.Count > 0 ? [.. _tools] : null,
        LastSeq = _lastSeq,
    };

    /// <summary>The text and tool activity so far, for checkpoints.</summary>
    public (string Content, IReadOnlyList<ChatToolActivity> Tools, long LastSeq) Progress()
    {
        lock (_lock)
        {
            return (_content.ToString(), [.. _tools], _lastSeq);
        }
    }

    private void Apply(ChatEvent e)
    {
        switch (e.Kind)
        {
            case ChatEventKinds.Delta:
                _content.Append(e.Delta);
                break;
            case ChatEventKinds.ToolCall when e.ToolCall is { } call:
                _tools.Add(new ChatToolActivity { Call = call });
                break;
            case ChatEventKinds.ToolResult when e.ToolResult is { } result:
                var activity = _tools.FindLast(t => t.Call.Id == result.Id);
                if (activity is null)
                {
                    _tools.Add(new ChatToolActivity { Call = new ChatToolCall { Id = result.Id, Name = result.Name }, Result = result });
                }
                else
                {
                    activity.Result = result;
                }

                break;
            case ChatEventKinds.Done:
                _status = ChatStatus.Done;
                _finishReason = e.FinishReason;
                _usage = e.Usage;
                CompletedAt = _time.GetUtcNow();
                break;
            case ChatEventKinds.Error:
                _status = e.Error?.Code == ErrorCodes.Interrupted ? ChatStatus.Interrupted : ChatStatus.Error;
                _error = e.Error;
                _usage = e.Usage;
                CompletedAt = _time.GetUtcNow();
                break;
            case ChatEventKinds.Cancelled:
                _status = ChatStatus.Cancelled;
                _usage = e.Usage;
                CompletedAt = _time.GetUtcNow();
                break;
        }
    }

    private ChatEvent SnapshotLocked() => new()
    {
        MessageId = MessageId,
        Seq = _lastSeq,
        Kind = ChatEventKinds.Snapshot,
        ConversationId = ConversationId,
        RequestId = RequestId,
        Model = Model,
        Status = _status,
        Content = _content.ToString(),
        Tools = _tools.Count > 0 ? [.. _tools] : null,
        FinishReason = _finishReason,
        Usage = _usage,
        Error = _error,
    };

    private void Delivered(object? reader, long seq)
    {
        if (reader is null)
        {
            return;
        }

        lock (_lock)
        {
            if (!_broadcastOver && _sent.GetValueOrDefault(reader) < seq)
            {
                _sent[reader] = seq;
            }
        }
    }

    private void Attach(object? reader, int delta)
    {
        if (reader is null)
        {
            return;
        }

        lock (_lock)
        {
            var count = _attached.GetValueOrDefault(reader) + delta;
            if (count <= 0)
            {
                _attached.Remove(reader);
            }
            else
            {
                _attached[reader] = count;
            }
        }
    }

    private static int EstimateBytes(ChatEvent e) =>
        96 + (2 * ((e.Delta?.Length ?? 0) + (e.ToolResult?.Content?.Length ?? 0) + (e.UserMessage?.Content.Length ?? 0)))
        + (e.ToolCall?.Arguments?.GetRawText().Length ?? 0);

    private readonly record struct Buffered(long Seq, JsonElement Element, int Bytes);
}
