using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Generators.Tests.Runtime;

/// <summary>
/// The compile-time schemas agree with the ones the MCP SDK builds by reflection for the same methods (descriptions
/// aside: the SDK reads only [Description], the generator also reads XML comments).
/// </summary>
public sealed class SchemaParityTests
{
    [Theory]
    [InlineData("echo", nameof(SampleServer.Echo))]
    [InlineData("add_numbers", nameof(SampleServer.AddNumbers))]
    [InlineData("add_structured", nameof(SampleServer.AddStructured))]
    [InlineData("move", nameof(SampleServer.Move))]
    [InlineData("color", nameof(SampleServer.ColorName))]
    [InlineData("grant", nameof(SampleServer.Grant))]
    [InlineData("grant_default", nameof(SampleServer.GrantDefault))]
    [InlineData("distinct", nameof(SampleServer.Distinct))]
    [InlineData("list", nameof(SampleServer.List))]
    [InlineData("describe_filter", nameof(SampleServer.DescribeFilter))]
    [InlineData("nothing", nameof(SampleServer.Nothing))]
    public void Schemas_MatchTheSdksReflectionSchemas(string tool, string method)
    {
        var generated = MmcpServerDefinition.Of<SampleServer>().CreateTools().Single(t => t.ProtocolTool.Name == tool).ProtocolTool;
        var reflected = McpServerTool.Create(typeof(SampleServer).GetMethod(method)!, target: null).ProtocolTool;

        Assert.Equal(reflected.Name, generated.Name);
        Assert.Equal(Normalize(reflected.InputSchema), Normalize(generated.InputSchema));
        Assert.Equal(reflected.OutputSchema is { } o ? Normalize(LegacyWire(o)) : null, generated.OutputSchema is { } g ? Normalize(g) : null);
        Assert.Equal(reflected.Annotations?.ReadOnlyHint, generated.Annotations?.ReadOnlyHint);
    }

    [Fact]
    public void Schemas_AreWellFormedJsonSchemaObjects()
    {
        foreach (var tool in MmcpServerDefinition.Of<SampleServer>().CreateTools().Select(t => t.ProtocolTool))
        {
            // JsonNode rejects duplicate keys, which some JSON parsers silently accept.
            var input = Assert.IsType<JsonObject>(JsonNode.Parse(tool.InputSchema.GetRawText()));
            Assert.Equal("object", (string?)input["type"]);
            Assert.IsType<JsonObject>(input["properties"]);
            if (tool.OutputSchema is { } output)
            {
                Assert.Equal("object", (string?)Assert.IsType<JsonObject>(JsonNode.Parse(output.GetRawText()))["type"]);
            }
        }
    }

    [Fact]
    public void Schemas_CollectionElementsFollowTheirNullabilityAnnotations()
    {
        // The SDK marks every reference-typed element nullable; the generator reads the annotations (Dictionary<string, string> holds no nulls).
        var generated = MmcpServerDefinition.Of<SampleServer>().CreateTools().Single(t => t.ProtocolTool.Name == "sum").ProtocolTool;

        Assert.Equal("""{"type":"string"}""", generated.InputSchema.GetProperty("properties").GetProperty("labels").GetProperty("additionalProperties").GetRawText());
    }

    /// <summary>
    /// The SDK keeps a non-object output schema natural and wraps it as {"result": ...} only for clients older than
    /// 2026-07-28; a generated tool always advertises the wrapped form, which every protocol version accepts.
    /// </summary>
    private static JsonElement LegacyWire(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "object")
        {
            return schema;
        }

        return JsonDocument.Parse($$"""{"type":"object","properties":{"result":{{schema.GetRawText()}}},"required":["result"]}""").RootElement;
    }

    /// <summary>Sorted keys, no descriptions.</summary>
    private static string Normalize(JsonElement schema)
    {
        var node = JsonNode.Parse(schema.GetRawText())!;
        return Sort(node)!.ToJsonString();

        static JsonNode? Sort(JsonNode? node) => node switch
        {
            JsonObject obj => new JsonObject(obj.Where(p => p.Key != "description").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
            JsonArray array => new JsonArray([.. array.Select(Sort)]),
            _ => node?.DeepClone(),
        };
    }
}
