using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>
/// Results as their server wrote them. MCP lets a result carry fields no revision defines (a vendor's field next to
/// <c>content</c>), and the SDK's types keep only the fields they know, and write an instant such as
/// <c>lastModified</c> in a notation of their own. The hub keeps the JSON of the results it reads from a server next to
/// the typed result, so a gateway can hand a result on exactly; only for a result nobody changed since it was read.
/// </summary>
public static class ResultJson
{
    private static readonly ConditionalWeakTable<Result, Text> Texts = new();

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
    public static bool TryGet(Result result, out ReadOnlyMemory<byte> json)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (Texts.TryGetValue(result, out var text))
        {
            json = text.Json;
            return true;
        }

        json = default;
        return false;
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
