using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Mmcp.Gateway.Bench;

/// <summary>
/// The floor of an HTTP gateway in front of a stdio server, measured in one process: Kestrel as <see cref="HttpFloor"/>
/// sets it up, relaying every <c>tools/call</c> to one stdio server as bytes (its own request id in, the caller's id
/// back), with no MCP beyond that, no session state, no consent and no audit. It makes the same hops and wake-ups as a
/// real gateway (client, socket thread, server, reading thread, client), so it shows what is left for a gateway's own
/// work. Run by the bench as a child process (<c>--stdio-relay-server PORT COMMAND ARGS…</c>).
/// </summary>
internal static class StdioRelay
{
    public const string Argument = "--stdio-relay-server";

    private static readonly byte[] InitializeResult = """{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"stdio-relay","version":"1"}}"""u8.ToArray();

    public static async Task<int> RunAsync(int port, string command, string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var server = Process.Start(start)!;
        var relay = new Relay(server.StandardInput.BaseStream, server.StandardOutput.BaseStream);
        await relay.InitializeAsync().ConfigureAwait(false);
        var app = HttpFloor.App(relay.AnswerAsync);
        try
        {
            await app.RunAsync($"http://127.0.0.1:{port}").ConfigureAwait(false);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
        }

        return 0;
    }

    private sealed class Relay
    {
        private readonly Stream _input;
        private readonly Stream _output;
        private readonly Lock _writing = new();
        private readonly ConcurrentDictionary<long, TaskCompletionSource<byte[]>> _waiting = new();
        private long _next;

        public Relay(Stream input, Stream output)
        {
            _input = input;
            _output = output;
            new Thread(ReadLoop) { IsBackground = true, Name = "relay reader" }.Start();
        }

        public async Task InitializeAsync()
        {
            await SendAsync("initialize"u8.ToArray(), """{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"stdio-relay","version":"1"}}"""u8.ToArray()).ConfigureAwait(false);
            lock (_writing)
            {
                _input.Write("""{"jsonrpc":"2.0","method":"notifications/initialized"}"""u8);
                _input.Write("\n"u8);
                _input.Flush();
            }
        }

        public async Task AnswerAsync(HttpContext context)
        {
            var body = context.Request.BodyReader;
            var read = await body.ReadAsync().ConfigureAwait(false);
            while (!read.IsCompleted)
            {
                body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                read = await body.ReadAsync().ConfigureAwait(false);
            }

            var (id, method, parameters) = Parts(read.Buffer.IsSingleSegment ? read.Buffer.FirstSpan : read.Buffer.ToArray());
            body.AdvanceTo(read.Buffer.End);
            if (id is null)
            {
                context.Response.StatusCode = StatusCodes.Status202Accepted; // a notification
                return;
            }

            ReadOnlyMemory<byte> payload;
            var isError = false;
            if (method.AsSpan().SequenceEqual("initialize"u8))
            {
                payload = InitializeResult;
            }
            else
            {
                var answer = await SendAsync(method!, parameters).ConfigureAwait(false);
                (payload, isError) = ResultOf(answer);
            }

            var response = new ArrayBufferWriter<byte>(256);
            response.Write("""{"jsonrpc":"2.0","id":"""u8);
            response.Write(id);
            response.Write(isError ? ""","error":"""u8 : ""","result":"""u8);
            response.Write(payload.Span);
            response.Write("}"u8);
            context.Response.ContentType = "application/json";
            context.Response.Headers["Mcp-Session-Id"] = "stdio-relay";
            context.Response.ContentLength = response.WrittenCount;
            await context.Response.Body.WriteAsync(response.WrittenMemory).ConfigureAwait(false);
        }

        private Task<byte[]> SendAsync(byte[] method, byte[]? parameters)
        {
            var id = Interlocked.Increment(ref _next);
            var answer = new TaskCompletionSource<byte[]>(); // continued on the reading thread, as a gateway's reader does
            _waiting[id] = answer;
            var message = new ArrayBufferWriter<byte>(256);
            message.Write("""{"jsonrpc":"2.0","id":"""u8);
            message.Write(System.Text.Encoding.ASCII.GetBytes(id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            message.Write(",\"method\":\""u8);
            message.Write(method);
            message.Write("\""u8);
            if (parameters is not null)
            {
                message.Write(""","params":"""u8);
                message.Write(parameters);
            }

            message.Write("}\n"u8);
            lock (_writing)
            {
                _input.Write(message.WrittenSpan);
                _input.Flush();
            }

            return answer.Task;
        }

        private void ReadLoop()
        {
            var buffer = new byte[64 * 1024];
            var end = 0;
            while (true)
            {
                if (end == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var read = _output.Read(buffer, end, buffer.Length - end);
                if (read == 0)
                {
                    return;
                }

                end += read;
                int newline;
                var start = 0;
                while ((newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n')) >= 0)
                {
                    var line = buffer.AsSpan(start, newline);
                    if (IdOf(line) is { } id && _waiting.TryRemove(id, out var answer))
                    {
                        answer.TrySetResult(line.ToArray());
                    }

                    start += newline + 1;
                }

                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
            }
        }

        private static long? IdOf(ReadOnlySpan<byte> line)
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                reader.Read();
                if (isId)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var id) ? id : null;
                }

                reader.Skip();
            }

            return null;
        }

        private static (ReadOnlyMemory<byte> Payload, bool IsError) ResultOf(byte[] answer)
        {
            var reader = new Utf8JsonReader(answer);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isResult = reader.ValueTextEquals("result"u8);
                var isError = reader.ValueTextEquals("error"u8);
                reader.Read();
                var from = (int)reader.TokenStartIndex;
                reader.Skip();
                if (isResult || isError)
                {
                    return (answer.AsMemory(from, (int)reader.BytesConsumed - from), isError);
                }
            }

            return ("""{"code":-32603,"message":"no result"}"""u8.ToArray(), true);
        }

        /// <summary>The request's id as written (quotes included), its method, and its params as written.</summary>
        private static (byte[]? Id, byte[]? Method, byte[]? Params) Parts(ReadOnlySpan<byte> json)
        {
            byte[]? id = null, method = null, parameters = null;
            var reader = new Utf8JsonReader(json);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                var isMethod = reader.ValueTextEquals("method"u8);
                var isParams = reader.ValueTextEquals("params"u8);
                reader.Read();
                var from = (int)reader.TokenStartIndex;
                reader.Skip();
                var value = json[from..(int)reader.BytesConsumed];
                if (isId)
                {
                    id = value.ToArray();
                }
                else if (isMethod)
                {
                    method = value[1..^1].ToArray();
                }
                else if (isParams)
                {
                    parameters = value.ToArray();
                }
            }

            return (id, method, parameters);
        }
    }
}
