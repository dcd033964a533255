using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Mmcp.Client;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Errors;
using Mmcp.Gateway.Security;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Shared.Json;

namespace Mmcp.Gateway.Rest;

/// <summary>
/// REST for runtimes that only speak HTTP: <c>/mcp/tools/list</c>, <c>/mcp/tools/call</c>, <c>/mcp/resources/list</c>,
/// <c>/mcp/resources/read</c>, <c>/mcp/prompts/list</c>, <c>/mcp/prompts/get</c>, and <c>/tools/{name}</c> (the
/// OpenAPI operations). Errors are <c>{"error":{"code","message","server"}}</c> with the status of
/// <see cref="GatewayErrors.ToHttpStatus"/>.
/// </summary>
internal sealed class RestEndpoints(GatewayCatalog catalog)
{
    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;

    public async Task ListToolsAsync(HttpContext context)
    {
        await RunAsync(context, async ct =>
        {
            var tools = await catalog.ListAllowedAsync(ct).ConfigureAwait(false);
            var array = new JsonArray();
            foreach (var t in tools)
            {
                var node = t.ToExposedJson();
                node["server"] = t.ServerId;
                node["tool"] = t.Tool.Name;
                array.Add((JsonNode)node);
            }

            return new JsonObject { ["tools"] = array };
        }).ConfigureAwait(false);
    }

    public async Task CallToolAsync(HttpContext context)
    {
        await RunAsync(context, async ct =>
        {
            using var document = await ReadDocumentAsync(context, ct).ConfigureAwait(false);
            var body = document.RootElement;
            if (body.ValueKind != JsonValueKind.Object)
            {
                throw new RestError(StatusCodes.Status400BadRequest, "bad_request", "The request body must be a JSON object.");
            }

            var name = OptionalString(body, "name");
            var server = OptionalString(body, "server");
            var toolName = OptionalString(body, "tool");
            if (name is null && (server is null || toolName is null))
            {
                throw new RestError(StatusCodes.Status400BadRequest, "bad_request", "Give the tool as {\"name\":\"<server>__<tool>\"} or {\"server\":\"<server id>\",\"tool\":\"<tool>\"}, with \"arguments\": {…}.");
            }

            var arguments = Arguments(body.TryGetProperty("arguments", out var a) ? a : default, "arguments");
            var tool = await catalog.ResolveAsync(name, server, toolName, ct).ConfigureAwait(false);
            return await catalog.CallAsync(Caller(context), "rest", tool, arguments, progress: null, ct).ConfigureAwait(false);
        }, McpJsonUtilities.GetTypeInfo<CallToolResult>(Json)).ConfigureAwait(false);
    }

    /// <summary>An OpenAPI operation: the body is the tool's arguments; the answer is its structured content, its text, or its content blocks.</summary>
    public async Task CallOperationAsync(HttpContext context)
    {
        await RunAsync(context, async ct =>
        {
            var name = context.Request.RouteValues["name"] as string ?? string.Empty;
            using var document = await ReadDocumentAsync(context, emptyIsNone: true, ct).ConfigureAwait(false);
            var arguments = Arguments(document?.RootElement ?? default, "the request body");
            var tool = await catalog.ResolveAsync(name, null, null, ct).ConfigureAwait(false);
            var result = await catalog.CallAsync(Caller(context), "openapi", tool, arguments, progress: null, ct).ConfigureAwait(false);
            var text = string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));
            if (result.IsError == true)
            {
                return new JsonObject { ["isError"] = true, ["error"] = text };
            }

            if (result.StructuredContent is { } structured)
            {
                return JsonNode.Parse(structured.GetRawText())!;
            }

            return result.Content.All(c => c is TextContentBlock)
                ? JsonValue.Create(text)
                : JsonSerializer.SerializeToNode(result.Content, McpJsonUtilities.GetTypeInfo<IList<ContentBlock>>(Json))!;
        }).ConfigureAwait(false);
    }

    public async Task ListResourcesAsync(HttpContext context)
    {
        await RunAsync(context, async ct =>
        {
            var (allowed, allowedTemplates, listing) = await catalog.ListResourcesAsync(ct).ConfigureAwait(false);
            var resources = new JsonArray();
            foreach (var r in allowed)
            {
                var node = ListJson.Item(r.Resource, r.Resource, ResultJson.TryGet);
                node["server"] = r.ServerId;
                resources.Add((JsonNode)node);
            }

            var templates = new JsonArray();
            foreach (var t in allowedTemplates)
            {
                var node = ListJson.Item(t.Template, t.Template, ResultJson.TryGet);
                node["server"] = t.ServerId;
                templates.Add((JsonNode)node);
            }

            return new JsonObject { ["resources"] = resources, ["resourceTemplates"] = templates, ["failures"] = Failures(listing) };
        }).ConfigureAwait(false);
    }

    public async Task ReadResourceAsync(HttpContext context)
    {
        await RunAsync(context, async ct =>
        {
            var body = await ReadObjectAsync(context, ct).ConfigureAwait(false);
            var uri = OptionalString(body, "uri") ?? throw new RestError(StatusCodes.Status400BadRequest, "bad_request", "Give the resource as {\"uri\":\"…\"} (and \"server\" when several servers could have it).");
            var server = OptionalString(body, "server")
                ?? await AggregatedEndpoint.ResolveResourceServerAsync(catalog, uri, ct).ConfigureAwait(false)
                ?? throw new HubException(HubErrorCode.NotFound, null, $"No server lists a resource or template matching '{uri}'.") { Target = uri };
            catalog.ThrowIfNotExposed(server);
            var result = await catalog.Hub.ReadResourceAsync(server, uri, ct).ConfigureAwait(false);
            return Written(result);
        }).ConfigureAwait(false);
    }

    public async Task ListPromptsAsync(HttpContext context)
    {
        await RunAsync(context, async ct =>
        {
            var (allowed, listing) = await catalog.ListPromptsAsync(ct).ConfigureAwait(false);
            var prompts = new JsonArray();
            foreach (var p in allowed)
            {
                var node = ListJson.Item(p.Prompt, p.Prompt, ResultJson.TryGet);
                node["name"] = AggregatedEndpoint.PromptName(p.ServerId, p.Prompt.Name);
                node["server"] = p.ServerId;
                node["prompt"] = p.Prompt.Name;
                prompts.Add((JsonNode)node);
            }

            return new JsonObject { ["prompts"] = prompts, ["failures"] = Failures(listing) };
        }).ConfigureAwait(false);
    }

    public async Task GetPromptAsync(HttpContext context)
    {
        await RunAsync(context, async ct =>
        {
            var body = await ReadObjectAsync(context, ct).ConfigureAwait(false);
            var name = OptionalString(body, "name");
            var server = OptionalString(body, "server");
            var prompt = OptionalString(body, "prompt");
            if (name is null && (server is null || prompt is null))
            {
                throw new RestError(StatusCodes.Status400BadRequest, "bad_request", "Give the prompt as {\"name\":\"<server>__<prompt>\"} or {\"server\":…,\"prompt\":…}, with \"arguments\": {…}.");
            }

            if (name is not null)
            {
                (server, prompt) = await AggregatedEndpoint.ResolvePromptAsync(catalog.Hub, name, ct).ConfigureAwait(false);
            }

            catalog.ThrowIfNotExposed(server!);
            var arguments = ArgumentsOf(body["arguments"]);
            var result = await catalog.Hub.GetPromptAsync(server!, prompt!, arguments, ct).ConfigureAwait(false);
            return Written(result);
        }).ConfigureAwait(false);
    }

    /// <summary>A result as its server wrote it (<see cref="ResultJson"/>), else as the SDK writes it.</summary>
    private static JsonNode Written<T>(T result)
        where T : Result =>
        ResultJson.TryGet(result, out var own) ? JsonNode.Parse(own.Span)! : JsonSerializer.SerializeToNode(result, McpJsonUtilities.GetTypeInfo<T>(Json))!;

    internal static GatewayCaller Caller(HttpContext context) => context.Items[RequestGuard.CallerKey] as GatewayCaller ?? GatewayCaller.Local;

    /// <summary>Runs a REST handler: writes its JSON, or maps its failure to a status and an error body (in one place).</summary>
    internal static Task RunAsync(HttpContext context, Func<CancellationToken, Task<JsonNode>> handler) =>
        RunAsync(context, handler, GatewayJsonContext.Default.JsonNode);

    /// <summary>Runs a REST handler whose answer is serialized with <paramref name="typeInfo"/>.</summary>
    internal static async Task RunAsync<T>(HttpContext context, Func<CancellationToken, Task<T>> handler, JsonTypeInfo<T> typeInfo)
    {
        var ct = context.RequestAborted;
        T result;
        try
        {
            result = await handler(ct).ConfigureAwait(false);
        }
        catch (RestError ex)
        {
            await RequestGuard.WriteErrorAsync(context, ex.Status, ex.Code, ex.Message).ConfigureAwait(false);
            return;
        }
        catch (HubException ex)
        {
            await RequestGuard.WriteErrorAsync(context, GatewayErrors.ToHttpStatus(ex.Code), ex.Code.ToString(), ex.Message, ex.ServerId).ConfigureAwait(false);
            return;
        }
        catch (McpProtocolException ex) when ((int)ex.ErrorCode == GatewayErrors.ConsentRefusedCode)
        {
            await RequestGuard.WriteErrorAsync(context, StatusCodes.Status403Forbidden, "ConsentRequired", ex.Message, ex.Data["server"] as string).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }

        // One write with a Content-Length: no chunked framing, and the client has the whole answer in one read.
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (result is Result read && ResultJson.TryGet(read, out var own))
            {
                writer.WriteRawValue(own.Span, skipInputValidation: true); // as the server wrote it (ResultJson)
            }
            else
            {
                JsonSerializer.Serialize(writer, result, typeInfo);
            }
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
    }

    private static JsonArray Failures(HubListing listing) =>
        [.. listing.Failures.Select(f => (JsonNode)new JsonObject { ["server"] = f.ServerId, ["code"] = f.Failure!.Code.ToString(), ["message"] = f.Failure.Message })];

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context, CancellationToken ct) =>
        await ReadNodeAsync(context, ct).ConfigureAwait(false) as JsonObject
            ?? throw new RestError(StatusCodes.Status400BadRequest, "bad_request", "The request body must be a JSON object.");

    private static async Task<JsonNode?> ReadNodeAsync(HttpContext context, CancellationToken ct)
    {
        var body = await ReadBodyAsync(context, ct).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new RestError(StatusCodes.Status400BadRequest, "invalid_json", $"The request body is not valid JSON: {ex.Message}");
        }
    }

    private static async Task<JsonDocument> ReadDocumentAsync(HttpContext context, CancellationToken ct) =>
        (await ReadDocumentAsync(context, emptyIsNone: false, ct).ConfigureAwait(false))!;

    /// <summary>Reads the body as JSON; with <paramref name="emptyIsNone"/> an empty body (declared with Content-Length: 0,
    /// sent chunked, or with no length at all) is none.</summary>
    private static async Task<JsonDocument?> ReadDocumentAsync(HttpContext context, bool emptyIsNone, CancellationToken ct)
    {
        var body = await ReadBodyAsync(context, ct).ConfigureAwait(false);
        if (emptyIsNone && body.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new RestError(StatusCodes.Status400BadRequest, "invalid_json", $"The request body is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>
    /// The body (the guard bounds its size), with lone surrogate escapes read as U+FFFD as on the MCP faces
    /// (<see cref="LoneSurrogates"/>): a name or URI with one is then one nobody has, not an exception.
    /// </summary>
    private static async Task<byte[]> ReadBodyAsync(HttpContext context, CancellationToken ct)
    {
        CheckContentType(context);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, ct).ConfigureAwait(false);
        var body = buffer.ToArray();
        LoneSurrogates.Replace(body);
        return body;
    }

    private static void CheckContentType(HttpContext context)
    {
        if (context.Request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new RestError(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", $"Send JSON (Content-Type: application/json), not '{type}'.");
        }
    }

    private static string? OptionalString(JsonElement body, string name) => body.TryGetProperty(name, out var value)
        ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            _ => throw new RestError(StatusCodes.Status400BadRequest, "bad_request", $"\"{name}\" must be a string."),
        }
        : null;

    private static Dictionary<string, object?>? Arguments(JsonElement element, string what) => element.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value, StringComparer.Ordinal),
        _ => throw new RestError(StatusCodes.Status400BadRequest, "bad_request", $"{char.ToUpperInvariant(what[0])}{what[1..]} must be a JSON object of the tool's arguments."),
    };

    private static string? OptionalString(JsonObject body, string name) => body[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw new RestError(StatusCodes.Status400BadRequest, "bad_request", $"\"{name}\" must be a string."),
    };

    private static Dictionary<string, object?>? ArgumentsOf(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => (object?)(p.Value is JsonValue v && v.TryGetValue<string>(out var text) ? text : p.Value?.ToJsonString()), StringComparer.Ordinal),
        _ => throw new RestError(StatusCodes.Status400BadRequest, "bad_request", "\"arguments\" must be a JSON object of the prompt's arguments (strings)."),
    };

    private sealed class RestError(int status, string code, string message) : Exception(message)
    {
        public int Status { get; } = status;

        public string Code { get; } = code;
    }
}
