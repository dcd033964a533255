using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Client;

/// <summary>
/// Results as their server wrote them. MCP lets a result carry fields no revision defines (a vendor's field next to
/// <c>content</c>), and the SDK's types keep only the fields they know, and write an instant such as
/// <c>lastModified</c> in a notation of their own. The hub keeps the JSON of the results it reads from a server next to
/// the typed result, so a gateway can hand a result on exactly; only for a result nobody changed since it was read.
/// An SDK server hands results on this way with <see cref="Faithful{TParams, TResult}"/> around its handlers and
/// <see cref="WriteInResponses"/> on its options.
/// </summary>
public static class ResultJson
{
    private const string ItemKey = "mmcp.result-json";

    private static readonly ConditionalWeakTable<object, Text> Texts = new(); // results, and the tools of a tools/list

    private static readonly McpMessageFilter Filter = next => (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcResponse response && response.Context?.Items is { } items && items.Remove(ItemKey, out var value)
            && value is ReadOnlyMemory<byte> json && JsonNode.Parse(json.Span) is JsonObject own)
        {
            // The _meta the SDK wrote is the server's own, kept whole by the typed result (a JsonObject), with what the SDK
            // sets there itself (the answering server's identity, on revisions with per-request metadata): it wins.
            if (response.Result is JsonObject { } written && written["_meta"] is JsonObject meta)
            {
                own["_meta"] = meta.DeepClone();
            }

            response.Result = own;
        }

        return next(context, cancellationToken);
    };

    /// <summary>
    /// Wraps an SDK server's request handler so that, when its result is one the hub read from a server (and nobody
    /// changed since), the response carries that result's own JSON; needs <see cref="WriteInResponses"/>.
    /// </summary>
    /// <typeparam name="TParams">The request parameters.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="handler">The handler.</param>
    /// <returns>The wrapped handler.</returns>
    public static McpRequestHandler<TParams, TResult> Faithful<TParams, TResult>(McpRequestHandler<TParams, TResult> handler)
        where TResult : Result
    {
        ArgumentNullException.ThrowIfNull(handler);
        return async (request, cancellationToken) =>
        {
            var result = await handler(request, cancellationToken).ConfigureAwait(false);
            if (TryGet(result, out var json))
            {
                request.Items[ItemKey] = json;
            }

            return result;
        };
    }

    /// <summary>
    /// Adds the outgoing message filter that puts the JSON a <see cref="Faithful{TParams, TResult}"/> handler left in
    /// place of the SDK's writing of its result, keeping the <c>_meta</c> the SDK wrote (once per options).
    /// </summary>
    /// <param name="options">The SDK server's options.</param>
    public static void WriteInResponses(McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var filters = options.Filters.Message.OutgoingFilters;
        if (!filters.Contains(Filter))
        {
            filters.Add(Filter);
        }
    }

    /// <summary>Keeps <paramref name="json"/> as what <paramref name="result"/> was read from.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="result">The typed result.</param>
    /// <param name="json">The JSON object it was read from (UTF-8), as the server wrote it; not copied, so it must not change.</param>
    /// <returns><paramref name="result"/>.</returns>
    public static T Attach<T>(T result, ReadOnlyMemory<byte> json)
        where T : Result
    {
        ArgumentNullException.ThrowIfNull(result);
        Texts.AddOrUpdate(result, new Text(json));
        return result;
    }

    /// <summary>Reads a result from a response's JSON and keeps that JSON with it (see <see cref="Attach{T}"/>).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="json">The response's <c>result</c>.</param>
    /// <param name="type">How to read it.</param>
    /// <returns>The typed result.</returns>
    /// <exception cref="JsonException">The JSON is not a result of that type.</exception>
    public static T Read<T>(JsonNode? json, JsonTypeInfo<T> type)
        where T : Result
    {
        ArgumentNullException.ThrowIfNull(type);
        var result = json.Deserialize(type) ?? throw new JsonException($"Expected a {typeof(T).Name} object, got null.");
        return json is JsonObject ? Attach(result, JsonSerializer.SerializeToUtf8Bytes(json, NodeType)) : result;
    }

    /// <summary>Gets the JSON a result was read from, when the hub read it from a server.</summary>
    /// <param name="result">The typed result.</param>
    /// <param name="json">The JSON object, as the server wrote it.</param>
    /// <returns>Whether there is one.</returns>
    public static bool TryGet(Result result, out ReadOnlyMemory<byte> json) => TryGetItem(result, out json);

    /// <summary>Gets the JSON a tool's definition was read from (an element of a server's <c>tools/list</c>), when the hub listed it live.</summary>
    /// <param name="tool">The tool, as the hub listed it.</param>
    /// <param name="json">The tool's JSON object, as the server wrote it.</param>
    /// <returns>Whether there is one.</returns>
    public static bool TryGet(Tool tool, out ReadOnlyMemory<byte> json) => TryGetItem(tool, out json);

    /// <summary>Gets the JSON a resource was read from (an element of a server's <c>resources/list</c>), when the hub listed it live.</summary>
    /// <param name="resource">The resource, as the hub listed it.</param>
    /// <param name="json">Its JSON object, as the server wrote it.</param>
    /// <returns>Whether there is one.</returns>
    public static bool TryGet(Resource resource, out ReadOnlyMemory<byte> json) => TryGetItem(resource, out json);

    /// <summary>Gets the JSON a resource template was read from (an element of a server's <c>resources/templates/list</c>), when the hub listed it live.</summary>
    /// <param name="template">The template, as the hub listed it.</param>
    /// <param name="json">Its JSON object, as the server wrote it.</param>
    /// <returns>Whether there is one.</returns>
    public static bool TryGet(ResourceTemplate template, out ReadOnlyMemory<byte> json) => TryGetItem(template, out json);

    /// <summary>Gets the JSON a prompt was read from (an element of a server's <c>prompts/list</c>), when the hub listed it live.</summary>
    /// <param name="prompt">The prompt, as the hub listed it.</param>
    /// <param name="json">Its JSON object, as the server wrote it.</param>
    /// <returns>Whether there is one.</returns>
    public static bool TryGet(Prompt prompt, out ReadOnlyMemory<byte> json) => TryGetItem(prompt, out json);

    /// <summary>Keeps each item's own JSON (an element of the result's <paramref name="property"/> array) with the item, when the result has its JSON.</summary>
    internal static TResult WithItemJson<TResult, TItem>(TResult result, string property, IList<TItem> items)
        where TResult : Result
        where TItem : class
    {
        if (TryGet(result, out var json) && JsonNode.Parse(json.Span)?[property] is JsonArray array && array.Count == items.Count)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonObject item)
                {
                    Texts.AddOrUpdate(items[i], new Text(JsonSerializer.SerializeToUtf8Bytes(item, NodeType)));
                }
            }
        }

        return result;
    }

    private static bool TryGetItem(object item, out ReadOnlyMemory<byte> json)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (Texts.TryGetValue(item, out var text))
        {
            json = text.Json;
            return true;
        }

        json = default;
        return false;
    }

    /// <summary>Sends a request and reads its result keeping the server's JSON with it, as the SDK's typed call would send it.</summary>
    internal static async ValueTask<TResult> RequestAsync<TParams, TResult>(ModelContextProtocol.Client.McpClient client, string method, TParams parameters, CancellationToken cancellationToken, RequestId requestId = default)
        where TResult : Result
    {
        var options = ModelContextProtocol.McpJsonUtilities.DefaultOptions;
        var request = new JsonRpcRequest { Id = requestId, Method = method, Params = JsonSerializer.SerializeToNode(parameters, ModelContextProtocol.McpJsonUtilities.GetTypeInfo<TParams>(options)) };
        var response = await client.SendRequestAsync(request, cancellationToken).ConfigureAwait(false);
        return Read(response.Result, ModelContextProtocol.McpJsonUtilities.GetTypeInfo<TResult>(options));
    }

    /// <summary>Forgets the JSON of a result that is about to be changed (it would no longer say the same).</summary>
    /// <param name="result">The typed result.</param>
    public static void Forget(Result result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Texts.Remove(result);
    }

    private static JsonTypeInfo<JsonNode> NodeType => (JsonTypeInfo<JsonNode>)ModelContextProtocol.McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonNode));

    private sealed class Text(ReadOnlyMemory<byte> json)
    {
        public ReadOnlyMemory<byte> Json { get; } = json;
    }
}
