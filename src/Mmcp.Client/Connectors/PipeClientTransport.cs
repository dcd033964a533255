using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Shared.Json;

namespace Mmcp.Client.Connectors;

/// <summary>
/// The hub's transport to a child process's standard input and output: newline-delimited JSON-RPC, as the SDK's
/// <see cref="StreamClientTransport"/> speaks it, with a shorter way in. .NET has no asynchronous I/O for anonymous
/// pipes, so the SDK's reader blocks a thread-pool thread in a synchronous read, decodes each line into a
/// <see cref="string"/>, parses that, and queues the message to the client's loop, which wakes on another thread. Here
/// one dedicated thread per server blocks in the read, parses each line's UTF-8 bytes as they are, and hands the message
/// to the client's loop on the same thread (a channel with synchronous continuations): one thread hop less per answer
/// on a machine whose cores are busy, and no thread-pool thread held by a server that is silent. Writes go to the
/// stream given (see <see cref="MessageWrites.ToPipe"/>), one message and its newline then a flush.
/// <para>
/// The reader also matches answers of its own: a request sent through <c>Session.RequestAsync</c> registers
/// its (string) id, and its answer line is handed to the waiting caller as bytes on the reading thread, without the
/// SDK client's loop, which yields once before it handles a message and completes the call's task on another thread.
/// The hub uses it for <c>tools/call</c> (docs/mmcp-gateway.md, "Latency").
/// </para>
/// </summary>
internal sealed partial class PipeClientTransport(Stream input, Stream output, string name, ILoggerFactory? loggerFactory = null) : IClientTransport
{
    private static long _answersMatched;

    [ThreadStatic]
    private static long _readAt; // when the reading thread's last read returned (only with the latency probe on)

    public string Name => name;

    /// <summary>Gets how many answers the readers of this process have matched to their requests (for tests and the bench).</summary>
    internal static long AnswersMatched => Interlocked.Read(ref _answersMatched);

    /// <summary>Gets when this thread's last read of a server's output returned, if this is a reading thread and the latency probe is on (else 0).</summary>
    internal static long ReadAt => _readAt;

    public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<ITransport>(new Session(input, output, name, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PipeClientTransport>()));

    /// <summary>What sees every message read before the client does, in order, on the reading thread.</summary>
    internal interface IObserver
    {
        /// <summary>Gets a value indicating whether answers matched by the reader must be shown as messages too (parsed only then).</summary>
        bool ObservesAnswers { get; }

        /// <summary>Sees one message read.</summary>
        void Received(JsonRpcMessage message);
    }

    /// <summary>The transport of one connection: the reading thread, the writes, and the answers matched by the reader.</summary>
    internal sealed class Session : ITransport
    {
        private const int InitialBufferSize = 16 * 1024;
        private static readonly JsonTypeInfo Message = McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));
        private readonly Stream _input;
        private readonly Stream _output;
        private readonly string _name;
        private readonly ILogger _logger;
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private readonly ConcurrentDictionary<string, Waiting> _answers = new(StringComparer.Ordinal);
        private readonly MessageWrites.PipeMessageStream? _writes;
        private readonly Lock _sentGate = new();
        private readonly Queue<(RequestId Id, long End)> _sent = new(); // the client's requests, in the order sent, not yet known read
        private int _waiting; // requests registered in _answers: tested on every line, where the dictionary's IsEmpty would lock
        private Exception? _ended; // why the reader ended: every request still waiting, and every one after, fails with it
        private int _started;

        // The client's loop (the SDK reads this channel with one reader) continues on the reading thread: the one hop
        // between the read and the loop that the SDK's own transport pays is what this transport saves.
        private readonly Channel<JsonRpcMessage> _messages = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions
        {
            SingleReader = true,
            SingleWriter = true,
            AllowSynchronousContinuations = true,
        });

        public Session(Stream input, Stream output, string name, ILogger logger)
        {
            _input = input;
            _writes = input as MessageWrites.PipeMessageStream;
            _output = output;
            _name = name;
            _logger = logger;
        }

        public string? SessionId => null;

        /// <summary>Gets the reader of the messages for the client. The reading thread starts with the first use, so an
        /// <see cref="Observer"/> set before it sees every message.</summary>
        public ChannelReader<JsonRpcMessage> MessageReader
        {
            get
            {
                StartReading();
                return _messages.Reader;
            }
        }

        /// <summary>Gets or sets what sees every message before the client does (set before the first use of <see cref="MessageReader"/>).</summary>
        public IObserver? Observer { get; set; }

        /// <summary>
        /// Sends a request with a string id and waits for its answer, matched by the reading thread: the answer's line
        /// (a JSON-RPC response or error), as the server wrote it. The caller's continuation runs on the reading thread.
        /// When the server's output ends first, the request fails as the SDK client fails its pending requests (the
        /// read's error, or an <see cref="IOException"/>); when the transport is closed, it is cancelled.
        /// </summary>
        /// <param name="request">The request; its id must be a string no other request uses.</param>
        /// <param name="send">Sends the request (the tapped transport's send, so the traffic tap sees it).</param>
        /// <param name="cancellationToken">Cancels the wait; announcing the cancellation to the server is the caller's.</param>
        /// <returns>The answer's line in UTF-8.</returns>
        public Task<byte[]> RequestAsync(JsonRpcRequest request, Func<JsonRpcMessage, CancellationToken, Task> send, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            ArgumentNullException.ThrowIfNull(send);
            var id = request.Id.Id as string ?? throw new ArgumentException("A request answered by the reader needs a string id.", nameof(request));
            return WaitForAnswerAsync(id, (request, send), static (s, ct) => s.send(s.request, ct), cancellationToken);
        }

        /// <summary>
        /// As <see cref="RequestAsync(JsonRpcRequest, Func{JsonRpcMessage, CancellationToken, Task}, CancellationToken)"/>,
        /// for a request written as JSON already (one line without its newline): its bytes go to the server as they are.
        /// </summary>
        /// <param name="id">The request's id, a string no other request uses, as its <c>"id"</c> says.</param>
        /// <param name="json">The request.</param>
        /// <param name="cancellationToken">Cancels the wait.</param>
        /// <returns>The answer's line in UTF-8.</returns>
        public Task<byte[]> RequestAsync(string id, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
        {
            ArgumentException.ThrowIfNullOrEmpty(id);
            return WaitForAnswerAsync(id, (session: this, id, json), static (s, ct) => s.session.SendLineAsync(s.id, s.json, ct), cancellationToken);
        }

        private async Task<byte[]> WaitForAnswerAsync<TState>(string id, TState state, Func<TState, CancellationToken, Task> send, CancellationToken cancellationToken)
        {
            var answer = new Waiting();
            if (!_answers.TryAdd(id, answer))
            {
                throw new InvalidOperationException($"A request with id '{id}' is already waiting for its answer.");
            }

            Interlocked.Increment(ref _waiting);
            StartReading();
            try
            {
                if (Volatile.Read(ref _ended) is { } ended)
                {
                    Fail(answer, ended);
                }
                else
                {
                    await send(state, cancellationToken).ConfigureAwait(false);
                }

                return await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (_answers.TryRemove(id, out _))
                {
                    Interlocked.Decrement(ref _waiting);
                }
            }
        }

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(message);
            return WriteLineAsync(message, static (stream, m) => JsonSerializer.Serialize(stream, m, Message), (message as JsonRpcRequest)?.Id, cancellationToken);
        }

        private async Task SendLineAsync(string id, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
        {
            await WriteLineAsync(json, static (stream, j) => stream.Write(j.Span), new RequestId(id), cancellationToken).ConfigureAwait(false);
            if (Diagnostics.LatencyProbe.Enabled)
            {
                Diagnostics.LatencyProbe.Mark(Diagnostics.LatencyMark.UpstreamWritten);
            }
        }

        /// <summary>Writes one message and its newline, in the order of the calls; <paramref name="request"/> is the id of a request, to learn when the server has read it.</summary>
        private async Task WriteLineAsync<TState>(TState state, Action<Stream, TState> write, RequestId? request, CancellationToken cancellationToken)
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                write(_input, state);
                _input.Write("\n"u8);
                if (_writes is not null && request is { } requestId)
                {
                    // Where it ends, before the write: its answer may come before the flush returns.
                    if (requestId.Id is string id && _answers.TryGetValue(id, out var waiting))
                    {
                        waiting.End = _writes.End;
                    }
                    else
                    {
                        Sent(requestId, _writes.End);
                    }
                }

                await _input.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // As the SDK's stream transport says it: the client maps this to a failed connection.
                throw new IOException("Failed to send message.", ex);
            }
            finally
            {
                _sendLock.Release();
            }
        }

        public ValueTask DisposeAsync()
        {
            // The streams belong to the child process: the reader ends when the process is gone and its output closes.
            // Requests still waiting are cancelled, as the SDK client cancels its own when it is disposed.
            Interlocked.CompareExchange(ref _ended, new OperationCanceledException("The connection was closed."), null);
            FailWaiting();
            _messages.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }

        private void StartReading()
        {
            if (Volatile.Read(ref _started) == 0 && Interlocked.Exchange(ref _started, 1) == 0)
            {
                new Thread(ReadLoop) { IsBackground = true, Name = "mmcp stdio reader" }.Start();
            }
        }

        private static void Fail(Waiting answer, Exception error)
        {
            if (error is OperationCanceledException)
            {
                answer.TrySetCanceled();
            }
            else
            {
                answer.TrySetException(error);
            }
        }

        private void FailWaiting()
        {
            var ended = Volatile.Read(ref _ended)!;
            foreach (var (id, answer) in _answers)
            {
                if (_answers.TryRemove(id, out _))
                {
                    Interlocked.Decrement(ref _waiting);
                }

                Fail(answer, ended);
            }
        }

        private void ReadLoop()
        {
            var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
            var start = 0; // the first byte of the line being read
            var end = 0; // the end of the bytes read
            var first = true;
            Exception? error = null;
            try
            {
                while (true)
                {
                    if (end == buffer.Length)
                    {
                        buffer = MakeRoom(buffer, ref start, ref end);
                    }

                    var read = _output.Read(buffer, end, buffer.Length - end);
                    if (Diagnostics.LatencyProbe.Enabled)
                    {
                        _readAt = System.Diagnostics.Stopwatch.GetTimestamp();
                    }
                    if (read == 0)
                    {
                        break;
                    }

                    var scan = end;
                    end += read;
                    int newline;
                    while ((newline = buffer.AsSpan(scan, end - scan).IndexOf((byte)'\n')) >= 0)
                    {
                        var line = buffer.AsSpan(start, scan + newline - start);
                        if (first)
                        {
                            line = line.StartsWith("\uFEFF"u8) ? line[3..] : line; // a byte-order mark, as a StreamReader drops it
                            first = false;
                        }

                        if (!Deliver(line))
                        {
                            return;
                        }

                        start = scan = scan + newline + 1;
                    }

                    if (start == end)
                    {
                        start = end = 0;
                        if (buffer.Length > MessageWrites.BufferSize)
                        {
                            // A large message's buffer is not kept for the connection's life.
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
                        }
                    }
                }
            }
            catch (ObjectDisposedException)
            {
                // The child process was disposed while the read was waiting: the connection is closed.
            }
            catch (Exception ex)
            {
                // The loop's boundary: whatever ends it closes the connection, and the client sees why.
                error = ex;
                Log.ReadFailed(_logger, _name, ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);

                // As the SDK client fails its pending requests when its transport's reader ends.
                Interlocked.CompareExchange(ref _ended, error ?? new IOException("The server shut down unexpectedly."), null);
                FailWaiting();
                _messages.Writer.TryComplete(error);
            }
        }

        /// <summary>Makes room at the end of a full buffer: moves the partial line to the front, or doubles the buffer.</summary>
        private static byte[] MakeRoom(byte[] buffer, ref int start, ref int end)
        {
            if (start > 0)
            {
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
                start = 0;
                return buffer;
            }

            var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
            buffer.AsSpan(0, end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            return larger;
        }

        /// <summary>Parses one line and hands it to the client; false once the client is gone.</summary>
        private bool Deliver(Span<byte> line)
        {
            line = line.Trim(" \t\r"u8);
            if (line.IsEmpty)
            {
                return true;
            }

            LoneSurrogates.Replace(line); // in the buffer itself: the line's length stays

            if (Volatile.Read(ref _waiting) > 0 && TryAnswer(line))
            {
                return true;
            }

            JsonRpcMessage? message;
            try
            {
                message = JsonSerializer.Deserialize(line, Message) as JsonRpcMessage;
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                // As the SDK's transport does: a line that is not a JSON-RPC message is logged and skipped.
                Log.LineSkipped(_logger, _name, ex);
                return true;
            }

            if (message is null)
            {
                Log.LineSkipped(_logger, _name, null);
                return true;
            }

            if (_writes is not null && message is JsonRpcResponse or JsonRpcError)
            {
                Answered(((JsonRpcMessageWithId)message).Id);
            }

            Observer?.Received(message);
            return _messages.Writer.TryWrite(message);
        }

        /// <summary>Remembers where a request the client's loop will match ends (a bounded record: what falls out is only known later).</summary>
        private void Sent(RequestId id, long end)
        {
            lock (_sentGate)
            {
                if (_sent.Count == 256)
                {
                    _sent.Dequeue();
                }

                _sent.Enqueue((id, end));
            }
        }

        /// <summary>The server answered a request of the client's loop: it has read that request and everything sent before it.</summary>
        private void Answered(RequestId id)
        {
            long end = 0;
            lock (_sentGate)
            {
                if (!_sent.Any(s => s.Id == id))
                {
                    return;
                }

                while (_sent.TryDequeue(out var sent))
                {
                    end = sent.End;
                    if (sent.Id == id)
                    {
                        break;
                    }
                }
            }

            _writes!.Consumed(end);
        }

        /// <summary>Completes the waiting request a line answers, if it answers one: a response or an error (no method) whose string id is registered.</summary>
        private bool TryAnswer(ReadOnlySpan<byte> line)
        {
            string? id = null;
            var isAnswer = false;
            try
            {
                var reader = new Utf8JsonReader(line);
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("method"u8))
                    {
                        return false; // a request or a notification from the server, whatever its id
                    }

                    var isId = reader.ValueTextEquals("id"u8);
                    isAnswer |= reader.ValueTextEquals("result"u8) || reader.ValueTextEquals("error"u8);
                    reader.Read();
                    if (isId)
                    {
                        id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            catch (JsonException)
            {
                return false; // the client's path logs it
            }

            if (!isAnswer || id is null || !_answers.TryRemove(id, out var answer))
            {
                return false;
            }

            Interlocked.Decrement(ref _waiting);
            Interlocked.Increment(ref _answersMatched);
            if (answer.End > 0)
            {
                _writes?.Consumed(answer.End);
            }

            if (Observer is { ObservesAnswers: true } observer && JsonSerializer.Deserialize(line, Message) is JsonRpcMessage message)
            {
                observer.Received(message);
            }

            answer.TrySetResult(line.ToArray());
            return true;
        }
    }

    /// <summary>A request waiting for its answer, and where it ends in the bytes sent to the server.</summary>
    private sealed class Waiting : TaskCompletionSource<byte[]>
    {
        public long End { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(3401, LogLevel.Warning, "Skipped a line from {Server} that is not a JSON-RPC message")]
        public static partial void LineSkipped(ILogger logger, string server, Exception? exception);

        [LoggerMessage(3402, LogLevel.Warning, "Reading from {Server} failed")]
        public static partial void ReadFailed(ILogger logger, string server, Exception exception);
    }
}
