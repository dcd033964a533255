using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mmcp.Gateway;

/// <summary>Source-generated JSON metadata for the gateway's own payloads.</summary>
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(string))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
