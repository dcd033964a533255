using System.Text.Json;
using System.Text.Json.Nodes;
using Mmcp.Client;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Aggregation;

/// <summary>
/// The JSON of list results the gateway writes itself (<c>/mcp</c>'s lists, the shared pass-through's tools, REST):
/// each entry is the server's own JSON (<see cref="ResultJson"/>: fields no MCP revision defines included) with what the
/// gateway changed in it (a prefixed name, its server in <c>_meta</c>) applied, so nothing else is lost.
/// </summary>
internal static class ListJson
{
    /// <summary>Reads the JSON the hub kept for an item.</summary>
    public delegate bool Kept<in T>(T item, out ReadOnlyMemory<byte> json);

    /// <summary>
    /// The server's JSON of <paramref name="source"/> with each top-level field in which <paramref name="exposed"/> (the
    /// gateway's copy) differs from it set to the copy's; <paramref name="exposed"/> written when the hub kept no JSON.
    /// </summary>
    public static JsonObject Item<T>(T exposed, T source, Kept<T> kept)
    {
        var type = McpJsonUtilities.GetTypeInfo<T>(McpJsonUtilities.DefaultOptions);
        var written = JsonSerializer.SerializeToNode(exposed, type)!.AsObject();
        if (!kept(source, out var json) || JsonNode.Parse(json.Span) is not JsonObject own)
        {
            return written;
        }

        if (!ReferenceEquals(exposed, source))
        {
            var original = JsonSerializer.SerializeToNode(source, type)!.AsObject();
            foreach (var (name, value) in written)
            {
                if (!JsonNode.DeepEquals(original[name], value))
                {
                    own[name] = value?.DeepClone();
                }
            }

            foreach (var (name, _) in original.Where(p => !written.ContainsKey(p.Key)).ToList())
            {
                own.Remove(name);
            }
        }

        return own;
    }

    /// <summary>Attaches to a list result the JSON of its entries (<paramref name="entries"/>, in order, under <paramref name="property"/>) and its cursor.</summary>
    public static TResult Attach<TResult>(TResult result, string property, IReadOnlyList<JsonObject> entries)
        where TResult : PaginatedResult
    {
        var json = new JsonObject { [property] = new JsonArray([.. entries]) };
        if (result.NextCursor is { } next)
        {
            json["nextCursor"] = next;
        }

        return ResultJson.Attach(result, JsonSerializer.SerializeToUtf8Bytes(json, McpJsonUtilities.GetTypeInfo<JsonNode>(McpJsonUtilities.DefaultOptions)));
    }
}
