using System.Text.Json;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.ConformanceServer;

/// <summary>A tool whose input schema uses JSON Schema 2020-12 keywords verbatim (SEP-1613), which attribute-generated schemas cannot express.</summary>
internal sealed class JsonSchemaTool : McpServerTool
{
    private const string Schema = """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "$defs": {
            "address": { "type": "object", "properties": { "street": { "type": "string" }, "city": { "type": "string" } } }
          },
          "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" }
          },
          "additionalProperties": false
        }
        """;

    public override Tool ProtocolTool { get; } = new()
    {
        Name = "json_schema_2020_12_tool",
        Description = "Tool with JSON Schema 2020-12 features",
        InputSchema = JsonDocument.Parse(Schema).RootElement.Clone(),
    };

    public override IReadOnlyList<object> Metadata => [];

    public override ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default)
    {
        var name = request.Params?.Arguments is { } args && args.TryGetValue("name", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : "(none)";
        return ValueTask.FromResult(new CallToolResult { Content = [new TextContentBlock { Text = $"JSON Schema 2020-12 tool called with name={name}" }] });
    }
}
