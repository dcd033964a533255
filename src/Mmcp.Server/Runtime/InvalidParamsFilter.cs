using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Shared.Json;

namespace Mmcp.Server.Runtime;

/// <summary>
/// Answers a request whose params have a member of the wrong JSON type (<c>resources/read</c> with <c>"uri": 5</c>,
/// <c>prompts/get</c> with a number for <c>name</c>, a <c>completion/complete</c> without a proper <c>ref</c>, …) with
/// -32602 Invalid params naming the member and what it must be (<see cref="RequestParamsCheck"/>), where the SDK, which
/// fails to read such params into its types, answers -32603 "An error occurred.". The one place for every transport
/// of the server. The params are looked at only once the request failed: a request that works costs nothing here, and
/// a method the server does not have stays -32601.
/// </summary>
internal static class InvalidParamsFilter
{
    /// <summary>The message filter that wraps every incoming request.</summary>
    public static McpMessageFilter Filter { get; } = next => async (context, cancellationToken) =>
    {
        try
        {
            await next(context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or McpProtocolException { ErrorCode: not McpErrorCode.InternalError })
            && context.JsonRpcMessage is JsonRpcRequest request && ProblemOf(request) is { } problem)
        {
            throw new McpProtocolException(problem, ex, McpErrorCode.InvalidParams);
        }
    };

    private static string? ProblemOf(JsonRpcRequest request) =>
        RequestParamsCheck.Checks(request.Method) ? RequestParamsCheck.Problem(request.Method, ElementOf(request.Params)) : null;

    private static JsonElement ElementOf(JsonNode? node)
    {
        if (node is null)
        {
            return default;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            node.WriteTo(writer);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }
}
