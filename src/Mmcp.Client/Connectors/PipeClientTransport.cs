using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

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
/// </summary>
internal sealed partial class PipeClientTransport(Stream input, Stream output, string name, ILoggerFactory? loggerFactory = null) : IClientTransport
{
    public string Name => name;

    public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<ITransport>(new Session(input, output, name, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PipeClientTransport>()));

    private sealed class Session : ITransport
    {
        private const int InitialBufferSize = 16 * 1024;
        private static readonly JsonTypeInfo Message = McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));
        private readonly Stream _input;
        private readonly Stream _output;
        private readonly string _name;
        private readonly ILogger _logger;
        private readonly SemaphoreSlim _sendLock = new(1, 1);

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
            _output = output;
            _name = name;
            _logger = logger;
            new Thread(ReadLoop) { IsBackground = true, Name = "mmcp stdio reader" }.Start();
        }

        public string? SessionId => null;

        public ChannelReader<JsonRpcMessage> MessageReader => _messages.Reader;

        public async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(message);
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                JsonSerializer.Serialize(_input, message, Message);
                _input.Write("\n"u8);
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
            _messages.Writer.TryComplete();
            return ValueTask.CompletedTask;
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
        private bool Deliver(ReadOnlySpan<byte> line)
        {
            line = line.Trim(" \t\r"u8);
            if (line.IsEmpty)
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

            return _messages.Writer.TryWrite(message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3401, LogLevel.Warning, "Skipped a line from {Server} that is not a JSON-RPC message")]
        public static partial void LineSkipped(ILogger logger, string server, Exception? exception);

        [LoggerMessage(3402, LogLevel.Warning, "Reading from {Server} failed")]
        public static partial void ReadFailed(ILogger logger, string server, Exception exception);
    }
}
