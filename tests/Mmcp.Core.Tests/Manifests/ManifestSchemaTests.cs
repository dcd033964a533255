using System.Text.Json.Nodes;
using Mmcp.Core.Manifests;
using NJsonSchema;

namespace Mmcp.Core.Tests.Manifests;

/// <summary>The shipped JSON Schema and the reader must agree on what is valid (an independent validator checks the schema).</summary>
public sealed class ManifestSchemaTests
{
    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string>
        {
            SampleManifests.Full,
            SampleManifests.Minimal(),
            SampleManifests.Minimal(transport: """{"type":"stdio","command":"node"}"""),
            SampleManifests.Minimal(transport: """{"type":"http","url":"http://127.0.0.1:9/mcp"}"""),
            SampleManifests.Minimal(id: "Upper.Case"),
            SampleManifests.Minimal(id: "single"),
            SampleManifests.Minimal(id: "com.a__b"),
            SampleManifests.Minimal(transport: """{"type":"carrier-pigeon"}"""),
            SampleManifests.Minimal(transport: """{"type":"stdio"}"""),
            SampleManifests.Minimal(transport: """{"type":"http","url":"ftp://x"}"""),
            SampleManifests.Minimal(transport: """{"type":"socket","path":""}"""),
            SampleManifests.MinimalWith("\"manifestVersion\":2"),
            SampleManifests.MinimalWith("\"capabilities\":{\"tools\":[{\"name\":\"ok\",\"inputSchema\":{\"type\":\"object\"}}]}"),
            SampleManifests.MinimalWith("\"capabilities\":{\"tools\":[{\"name\":\"bad name\",\"inputSchema\":{\"type\":\"object\"}}]}"),
            SampleManifests.MinimalWith("\"capabilities\":{\"tools\":[{\"name\":\"a\",\"inputSchema\":{\"type\":\"array\"}}]}"),
            SampleManifests.MinimalWith("\"capabilities\":{\"resources\":[{\"name\":\"r\"}]}"),
            SampleManifests.MinimalWith("\"timeouts\":{\"callMs\":0}"),
            SampleManifests.MinimalWith("\"protocolVersion\":\"1999-01-01\""),
            """{"name":"n","description":"d","version":"1","transport":{"type":"socket","path":"a"}}""",
            OAuth("""{"clientId":"c","clientSecret":"${env:C_SECRET}","scopes":["a","b:c"],"redirectPort":8123}"""),
            OAuth("""{"clientMetadataUrl":"https://example.com/mmcp/client.json"}"""),
            OAuth("""{"clientId":"c","clientSecret":"literal-secret"}"""),
            OAuth("""{"clientSecret":"${input:s}"}"""),
            OAuth("""{"scopes":["a b"]}"""),
            OAuth("""{"clientMetadataUrl":"http://example.com/c.json"}"""),
            OAuth("""{"clientId":"c","clientMetadataUrl":"https://example.com/c.json"}"""),
            OAuth("""{"redirectPort":80}"""),
        };
        return data;
    }

    private static string OAuth(string oauth) =>
        SampleManifests.Minimal(transport: $$"""{"type":"http","url":"https://example.com/mcp","oauth":{{oauth}}}""");

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task SchemaAndReader_AgreeOnValidity(string json)
    {
        var schema = await JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schemas", "mmcp-manifest.v1.schema.json")), TestContext.Current.CancellationToken);

        var schemaErrors = schema.Validate(json);
        var reader = ManifestReader.Read(json, "x.json");

        Assert.True(reader.IsValid == (schemaErrors.Count == 0),
            $"reader valid={reader.IsValid} ({string.Join("; ", reader.Diagnostics)}), schema errors: {string.Join("; ", schemaErrors.Select(e => e.Kind + "@" + e.Path))}");
    }

    [Fact]
    public void GetJson_EmbeddedSchema_MatchesTheRepositoryFile()
    {
        var embedded = JsonNode.Parse(ManifestSchema.GetJson());
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schemas", "mmcp-manifest.v1.schema.json")));

        Assert.True(JsonNode.DeepEquals(embedded, file));
        Assert.Equal(ManifestWriter.SchemaUri, embedded!["$id"]!.GetValue<string>());
    }
}
