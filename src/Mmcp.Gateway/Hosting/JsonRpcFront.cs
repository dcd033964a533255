using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Mmcp.Gateway.Hosting;

/// <summary>
/// Checks a POST to an MCP endpoint before the direct lane and the SDK see it, and answers the JSON-RPC errors the
/// spec names where the SDK would answer others: malformed JSON is -32700 Parse error (the SDK says -32600); a
/// <c>tools/call</c> without a string <c>name</c> or with <c>arguments</c> that are not an object is -32602 Invalid
/// params (the SDK says -32603); a batch (a JSON array) is -32600 with a message saying why: the gateway speaks
/// 2025-06-18 and later, whose transport carries one message per POST ("Remove support for JSON-RPC batching",
/// 2025-06-18 changelog), and does not take batches from 2025-03-26 sessions either (see docs/mmcp-gateway.md).
/// Anything else goes on with its body readable again.
/// </summary>
internal static class JsonRpcFront
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int InvalidParams = -32602;

    public const string BatchRefusal =
        "JSON-RPC batches are not accepted: send one message per POST. MCP 2025-06-18 removed batching (\"Remove support for JSON-RPC batching\"), and this gateway does not take batches from 2025-03-26 sessions either.";

    /// <summary>Answers a request the spec calls an error, or leaves it, its body readable again, to what follows.</summary>
    /// <returns>Whether the request was answered.</returns>
    public static async Task<bool> TryRefuseAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await ReadBodyAsync(request.BodyReader, context.RequestAborted).ConfigureAwait(false);
        request.Body = new MemoryStream(body, writable: false);
        if (body.Length == 0)
        {
            return false; // the SDK says what it says about an empty body
        }

        if (Check(body, out var status) is not { } refusal)
        {
            return false;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(refusal, context.RequestAborted).ConfigureAwait(false);
        return true;
    }

    /// <summary>The error answer to one JSON-RPC message the spec calls an error, or null when it may go on.</summary>
    /// <param name="body">The message as sent.</param>
    /// <param name="status">The HTTP status for the answer.</param>
    /// <returns>The JSON-RPC error response, or null.</returns>
    public static byte[]? Check(ReadOnlyMemory<byte> body, out int status)
    {
        status = StatusCodes.Status400BadRequest;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return Error(null, ParseError, "Parse error: the body is not valid JSON.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                return Error(null, InvalidRequest, BatchRefusal);
            }

            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("method", out var method) && method.ValueKind == JsonValueKind.String && method.ValueEquals("tools/call")
                && root.TryGetProperty("id", out var id) && id.ValueKind is JsonValueKind.String or JsonValueKind.Number
                && InvalidCallParams(root) is { } problem)
            {
                status = StatusCodes.Status200OK;
                return Error(id, InvalidParams, problem);
            }
        }

        return null;
    }

    /// <summary>What is wrong with a <c>tools/call</c>'s params, or null when its name and arguments are well-formed.</summary>
    private static string? InvalidCallParams(JsonElement request)
    {
        if (!request.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
        {
            return "Invalid params: tools/call needs params with the tool's 'name'.";
        }

        if (!parameters.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() is not { Length: > 0 })
        {
            return "Invalid params: tools/call needs 'name', the tool's name as a non-empty string.";
        }

        if (parameters.TryGetProperty("arguments", out var arguments) && arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            return $"Invalid params: 'arguments' must be an object of the tool's arguments, not {arguments.ValueKind.ToString().ToLowerInvariant()}.";
        }

        return null;
    }

    private static async Task<byte[]> ReadBodyAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Kestrel enforces the body limit the guard set (413 through the guard).
            var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (read.IsCompleted)
            {
                var body = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return body;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static byte[] Error(JsonElement? id, int code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WritePropertyName("id");
            if (id is { } value)
            {
                value.WriteTo(writer);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteStartObject("error");
            writer.WriteNumber("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
