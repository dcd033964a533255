using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mmcp.Gateway.Bench;

/// <summary>
/// The floor of an HTTP gateway on this machine: Kestrel, set up as <c>mmcp serve</c> runs it (socket completions
/// inline), answering every MCP POST with a fixed answer under the request's id, with no MCP, no session state and no
/// upstream. A gateway in front of a stdio server pays at least this hop and the raw stdio call: the bench prints
/// their sum next to the targets, so a ratio to the raw stdio call can be read against what any gateway could reach
/// here. Run by the bench as a child process (<c>--http-floor-server PORT</c>).
/// </summary>
internal static class HttpFloor
{
    public const string Argument = "--http-floor-server";

    private static readonly byte[] InitializeResult = """{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"http-floor","version":"1"}}"""u8.ToArray();
    private static readonly byte[] CallResult = """{"content":[{"type":"text","text":"Echo: ping"}]}"""u8.ToArray();

    public static async Task<int> RunAsync(int port)
    {
        await App(AnswerAsync).RunAsync($"http://127.0.0.1:{port}").ConfigureAwait(false);
        return 0;
    }

    /// <summary>Kestrel as <c>mmcp serve</c> runs it (inline scheduling, no logging), answering MCP POSTs with <paramref name="answer"/> (and DELETE, a session's end, with 200).</summary>
    public static WebApplication App(RequestDelegate answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        var app = builder.Build();
        app.MapPost("/mcp", answer);
        app.MapDelete("/mcp", static () => Results.Ok());
        return app;
    }

    private static async Task AnswerAsync(HttpContext context)
    {
        var body = context.Request.BodyReader;
        var read = await body.ReadAsync().ConfigureAwait(false);
        while (!read.IsCompleted)
        {
            body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            read = await body.ReadAsync().ConfigureAwait(false);
        }

        var (id, initialize) = IdAndMethod(read.Buffer.IsSingleSegment ? read.Buffer.FirstSpan : read.Buffer.ToArray());
        body.AdvanceTo(read.Buffer.End);
        if (id is null)
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted; // a notification
            return;
        }

        var answer = new ArrayBufferWriter<byte>(256);
        answer.Write("""{"jsonrpc":"2.0","id":"""u8);
        answer.Write(id);
        answer.Write(""","result":"""u8);
        answer.Write(initialize ? InitializeResult : CallResult);
        answer.Write("}"u8);
        context.Response.ContentType = "application/json";
        context.Response.Headers["Mcp-Session-Id"] = "http-floor";
        context.Response.ContentLength = answer.WrittenCount;
        await context.Response.Body.WriteAsync(answer.WrittenMemory).ConfigureAwait(false);
    }

    /// <summary>The request's id as written (quotes included) and whether it is <c>initialize</c>.</summary>
    private static (byte[]? Id, bool Initialize) IdAndMethod(ReadOnlySpan<byte> json)
    {
        byte[]? id = null;
        var initialize = false;
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isId = reader.ValueTextEquals("id"u8);
            var isMethod = reader.ValueTextEquals("method"u8);
            reader.Read();
            if (isId)
            {
                id = json[(int)reader.TokenStartIndex..(int)reader.BytesConsumed].ToArray();
            }
            else if (isMethod)
            {
                initialize = reader.ValueTextEquals("initialize"u8);
            }
            else
            {
                reader.Skip();
            }
        }

        return (id, initialize);
    }
}
