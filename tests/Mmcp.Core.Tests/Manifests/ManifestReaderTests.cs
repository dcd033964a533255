using System.Text;
using Mmcp.Core.Manifests;

namespace Mmcp.Core.Tests.Manifests;

public sealed class ManifestReaderTests
{
    private static ManifestReadResult Read(string json) => ManifestReader.Read(json, "test.json");

    private static ManifestDiagnostic SingleError(ManifestReadResult result)
    {
        Assert.False(result.IsValid);
        return Assert.Single(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void Read_FullManifest_ReadsEveryField()
    {
        var result = Read(SampleManifests.Full);

        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        var m = result.Manifest!;
        Assert.Equal("io.mmcp.examples.files", m.Id);
        Assert.Equal("File Manager", m.Name);
        Assert.Equal("1.2.3", m.Version);
        Assert.Equal(["files"], m.Categories);
        Assert.Equal(["files.read"], m.Permissions);
        Assert.Equal("2025-11-25", m.ProtocolVersion);
        Assert.Equal("files.sock", Assert.IsType<SocketTransport>(m.Transport).Path);
        Assert.Equal("/usr/bin/files", m.Launch!.Command);
        Assert.Equal(["--mmcp"], m.Launch.Args);
        Assert.Equal("1", m.Launch.Env["A"]);
        Assert.Equal(TimeSpan.FromSeconds(30), m.Timeouts!.Call);
        var tool = Assert.Single(m.Capabilities!.Tools);
        Assert.Equal("list_files", tool.Name);
        Assert.True(tool.Annotations!.ReadOnlyHint);
        Assert.Equal("path", tool.InputSchema.GetProperty("required")[0].GetString());
        Assert.Equal("file:///readme", Assert.Single(m.Capabilities.Resources).Uri);
        Assert.Equal("file:///{path}", Assert.Single(m.Capabilities.ResourceTemplates).UriTemplate);
        Assert.True(Assert.Single(Assert.Single(m.Capabilities.Prompts).Arguments!).Required);
    }

    [Fact]
    public void Read_Utf8WithByteOrderMark_IsAccepted()
    {
        var result = ManifestReader.Read(Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(SampleManifests.Full)).ToArray(), "bom.json");

        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void WriteThenRead_FullManifest_RoundTripsExactly()
    {
        var first = Read(SampleManifests.Full).Manifest!;
        var json = ManifestWriter.ToJson(first);
        var second = ManifestReader.Read(json, "roundtrip.json");

        Assert.True(second.IsValid, string.Join("\n", second.Diagnostics));
        Assert.Equal(json, ManifestWriter.ToJson(second.Manifest!));
    }

    [Theory]
    [InlineData("""{"type":"stdio","command":"node","args":["server.js"],"env":{"K":"V"},"cwd":"/srv"}""", "stdio")]
    [InlineData("""{"type":"http","url":"https://example.com/mcp","headers":{"Authorization":"Bearer x"}}""", "http")]
    [InlineData("""{"type":"socket","path":"/run/user/1000/mmcp/a.sock"}""", "socket")]
    public void Read_EachTransport_IsAccepted(string transport, string type)
    {
        var result = Read(SampleManifests.Minimal(transport: transport));

        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        Assert.Equal(type, result.Manifest!.Transport.Type);
    }

    [Theory]
    [InlineData("id")]
    [InlineData("name")]
    [InlineData("description")]
    [InlineData("version")]
    [InlineData("transport")]
    public void Read_MissingRequiredField_ReportsThatField(string field)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(SampleManifests.Minimal())!.AsObject();
        node.Remove(field);

        var error = SingleError(Read(node.ToJsonString()));

        Assert.Equal(field, error.Field);
        Assert.Contains("required", error.Message, StringComparison.Ordinal);
        Assert.Equal("test.json", error.File);
    }

    [Theory]
    [InlineData("Com.Example.App", "not a valid reverse-DNS id")]
    [InlineData("app", "not reverse-DNS")]
    [InlineData("com.ex__ample", "'__'")]
    [InlineData("com..example", "not a valid reverse-DNS id")]
    [InlineData("com.example.", "not a valid reverse-DNS id")]
    [InlineData("com.exa mple", "not a valid reverse-DNS id")]
    [InlineData("", "must not be empty")]
    public void Read_InvalidId_ExplainsHowToFixIt(string id, string expected)
    {
        var error = SingleError(Read(SampleManifests.Minimal(id: id)));

        Assert.Equal("id", error.Field);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"pipe","path":"x"}""", "transport.type", "'pipe' is not a transport")]
    [InlineData("""{"path":"x"}""", "transport.type", "is required")]
    [InlineData("""{"type":"socket"}""", "transport.path", "is required")]
    [InlineData("""{"type":"socket","path":""}""", "transport.path", "must not be empty")]
    [InlineData("""{"type":"stdio","args":["x"]}""", "transport.command", "is required")]
    [InlineData("""{"type":"stdio","command":"x","args":"--flag"}""", "transport.args", "must be an array of strings")]
    [InlineData("""{"type":"stdio","command":"x","env":{"A":1}}""", "transport.env.A", "must be a string")]
    [InlineData("""{"type":"http","url":"ftp://example.com"}""", "transport.url", "not an absolute http")]
    [InlineData("""{"type":"http","url":"/relative"}""", "transport.url", "not an absolute http")]
    [InlineData("\"socket\"", "transport", "must be an object")]
    public void Read_BadTransport_ReportsFieldAndReason(string transport, string field, string expected)
    {
        var error = SingleError(Read(SampleManifests.Minimal(transport: transport)));

        Assert.Equal(field, error.Field);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AbsoluteSocketPathTooLong_IsRefused()
    {
        var path = "/" + new string('a', 120) + ".sock";

        var error = SingleError(Read(SampleManifests.Minimal(transport: $$"""{"type":"socket","path":"{{path}}"}""")));

        Assert.Equal("transport.path", error.Field);
        Assert.Contains("limited to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownField_IsAWarningAndTheManifestStaysUsable()
    {
        var result = Read(SampleManifests.MinimalWith("\"colour\":\"blue\""));

        Assert.True(result.IsValid);
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal("colour", warning.Field);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"intger"}}}""", "capabilities.tools[0].inputSchema.properties.a.type", "'intger' is not a JSON Schema type")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}""", "capabilities.tools[0].inputSchema.required[0]", "'b' is required but is not one of the properties (a)")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"array","items":{"type":["strin","null"]}}}}""", "capabilities.tools[0].inputSchema.properties.a.items.type[0]", "'strin' is not a JSON Schema type")]
    [InlineData("""{"type":"object","properties":{"a":"string"}}""", "capabilities.tools[0].inputSchema.properties.a", "must be a JSON Schema object")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"object","additionalProperties":{"type":"int"}}}}""", "capabilities.tools[0].inputSchema.properties.a.additionalProperties.type", "'int' is not a JSON Schema type")]
    public void Read_ToolSchemaMistake_IsAWarningWithItsPath(string schema, string field, string expected)
    {
        var result = Read(SampleManifests.MinimalWith($$"""
            "capabilities":{"tools":[{"name":"t","inputSchema":{{schema}}}]}
            """));

        Assert.True(result.IsValid);
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal(field, warning.Field);
        Assert.Contains(expected, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ToolOutputSchemaMistake_IsAWarningWithItsPath()
    {
        var result = Read(SampleManifests.MinimalWith("""
            "capabilities":{"tools":[{"name":"t","inputSchema":{"type":"object"},"outputSchema":{"type":"object","properties":{"x":{"type":"float"}}}}]}
            """));

        Assert.Equal("capabilities.tools[0].outputSchema.properties.x.type", Assert.Single(result.Diagnostics).Field);
    }

    [Fact]
    public void Read_WellFormedToolSchemas_HaveNoDiagnostics()
    {
        var result = Read(SampleManifests.MinimalWith("""
            "capabilities":{"tools":[{"name":"t","inputSchema":{"type":"object","properties":{"a":{"type":["integer","null"]},"b":{"anyOf":[{"type":"string"},{"type":"array","items":{"type":"number"}}]},"c":{"enum":["x",null]},"d":{}},"required":["a"],"additionalProperties":false},"outputSchema":{"type":"object"}}]}
            """));

        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Read_DuplicateKey_IsAnError()
    {
        var error = SingleError(Read(SampleManifests.MinimalWith("\"name\":\"Other\"")));

        Assert.Equal("name", error.Field);
        Assert.Contains("more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MalformedJson_ReportsTheLine()
    {
        var error = SingleError(Read("{\n  \"id\": \"com.example.app\",\n  \"name\": oops\n}"));

        Assert.Equal(string.Empty, error.Field);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void Read_NotAnObject_IsAnError()
    {
        var error = SingleError(Read("[1,2,3]"));

        Assert.Contains("must be a JSON object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DeeplyNestedDocument_IsRefusedWithoutStackOverflow()
    {
        var json = SampleManifests.MinimalWith("\"x\":" + new string('[', 10_000) + new string(']', 10_000));

        var error = SingleError(Read(json));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OversizedDocument_IsRefused()
    {
        var bytes = Encoding.UTF8.GetBytes(SampleManifests.MinimalWith("\"pad\":\"" + new string('x', ManifestReader.MaxManifestBytes) + "\""));

        var error = SingleError(ManifestReader.Read(bytes, "big.json"));

        Assert.Contains("limited to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_InvalidUtf8_IsAnErrorNotAnException()
    {
        byte[] bytes = [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'];

        Assert.False(ManifestReader.Read(bytes, "bad.json").IsValid);
    }

    [Fact]
    public void Read_NulInsideAString_IsRefused()
    {
        var error = SingleError(Read(SampleManifests.Minimal(transport: """{"type":"stdio","command":"/bin/sh\u0000-c"}""")));

        Assert.Equal("transport.command", error.Field);
        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NewerManifestVersion_SaysToUpdate()
    {
        var error = SingleError(Read(SampleManifests.MinimalWith("\"manifestVersion\":2")));

        Assert.Equal("manifestVersion", error.Field);
        Assert.Contains("update Mmcp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownProtocolVersion_ListsTheKnownOnes()
    {
        var error = SingleError(Read(SampleManifests.MinimalWith("\"protocolVersion\":\"2099-01-01\"")));

        Assert.Equal("protocolVersion", error.Field);
        Assert.Contains("2025-11-25", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""[{"name":"bad name","inputSchema":{"type":"object"}}]""", "capabilities.tools[0].name", "not a valid MCP tool name")]
    [InlineData("""[{"inputSchema":{"type":"object"}}]""", "capabilities.tools[0].name", "is required")]
    [InlineData("""[{"name":"a","inputSchema":{"type":"object"}},{"name":"a","inputSchema":{"type":"object"}}]""", "capabilities.tools[1]", "more than once")]
    [InlineData("""[{"name":"a"}]""", "capabilities.tools[0].inputSchema", "is required")]
    [InlineData("""[{"name":"a","inputSchema":{"type":"string"}}]""", "capabilities.tools[0].inputSchema.type", "must be \"object\"")]
    [InlineData("""[{"name":"a","inputSchema":[]}]""", "capabilities.tools[0].inputSchema", "JSON Schema object")]
    [InlineData("""{"name":"a"}""", "capabilities.tools", "must be an array")]
    [InlineData("""[42]""", "capabilities.tools[0]", "must be an object")]
    public void Read_BadToolSnapshot_PointsAtTheTool(string tools, string field, string expected)
    {
        var json = SampleManifests.MinimalWith("\"capabilities\":{\"tools\":" + tools + "}");

        var error = SingleError(Read(json));

        Assert.Equal(field, error.Field);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ManyErrors_ReportsAllOfThem()
    {
        var result = Read("""{"id":"X","name":"","description":3,"version":"1 0","transport":{"type":"socket"}}""");

        Assert.False(result.IsValid);
        Assert.Equal(["id", "name", "description", "version", "transport.path"], result.Diagnostics.Select(d => d.Field));
    }

    [Fact]
    public void ReadFile_MissingFile_IsADiagnostic()
    {
        var result = ManifestReader.ReadFile("/nonexistent/dir/x.json");

        Assert.Contains("cannot be read", SingleError(result).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnostic_ToString_NamesFileLineFieldAndReason()
    {
        var d = new ManifestDiagnostic("/a/b.json", "transport.path", "is required", DiagnosticSeverity.Error, 4);

        Assert.Equal("/a/b.json:4: error: transport.path: is required", d.ToString());
    }
}
