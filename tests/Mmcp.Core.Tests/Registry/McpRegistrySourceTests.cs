using Mmcp.Core.Manifests;
using Mmcp.Core.Registry.Imports;

namespace Mmcp.Core.Tests.Registry;

public sealed class McpRegistrySourceTests
{
    private static (ServerManifest? Manifest, IReadOnlyList<ManifestDiagnostic> Diagnostics) Import(string json)
    {
        using var dir = new TestSandbox();
        dir.Write("server.json", json);
        var result = new McpRegistrySource(dir.Root).Read();
        return (result.Servers.SingleOrDefault()?.Manifest, result.Diagnostics);
    }

    [Fact]
    public void Read_NpmPackage_BecomesNpxWithPinnedVersionArgumentsAndInputs()
    {
        var (m, diagnostics) = Import("""
            {
              "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
              "name": "io.github.example/weather", "title": "Weather", "description": "Forecasts.", "version": "1.0.2",
              "packages": [{
                "registryType": "npm", "identifier": "@example/weather", "version": "1.0.2", "transport": { "type": "stdio" },
                "packageArguments": [ { "type": "named", "name": "--units", "value": "metric" }, { "type": "positional", "valueHint": "city", "isRequired": true } ],
                "environmentVariables": [ { "name": "WEATHER_API_KEY", "isRequired": true, "isSecret": true }, { "name": "OPTIONAL" }, { "name": "REGION", "default": "eu" } ]
              }]
            }
            """);

        Assert.Empty(diagnostics);
        Assert.Equal("io.github.example.weather", m!.Id);
        Assert.Equal("Weather", m.Name);
        var stdio = Assert.IsType<StdioTransport>(m.Transport);
        Assert.Equal("npx", stdio.Command);
        Assert.Equal(["-y", "@example/weather@1.0.2", "--units", "metric", "${input:city}"], stdio.Args);
        Assert.Equal("${input:WEATHER_API_KEY}", stdio.Env["WEATHER_API_KEY"]);
        Assert.Equal("eu", stdio.Env["REGION"]);
        Assert.False(stdio.Env.ContainsKey("OPTIONAL"));
    }

    [Theory]
    [InlineData("pypi", "uvx", "pkg==2.0")]
    [InlineData("nuget", "dnx", "pkg@2.0")]
    [InlineData("oci", "docker", "pkg:2.0")]
    public void Read_OtherRegistries_UseTheirRuntime(string registryType, string command, string expectedArg)
    {
        var (m, _) = Import($$"""{"name":"a/b","description":"d","version":"2.0","packages":[{"registryType":"{{registryType}}","identifier":"pkg","version":"2.0"}]}""");

        var stdio = Assert.IsType<StdioTransport>(m!.Transport);
        Assert.Equal(command, stdio.Command);
        Assert.Contains(expectedArg, stdio.Args);
    }

    [Fact]
    public void Read_OnlyRemote_BecomesHttp()
    {
        var (m, _) = Import("""{"name":"a/b","description":"d","version":"1","remotes":[{"type":"streamable-http","url":"https://mcp.example/mcp","headers":[{"name":"X-Key","isRequired":true}]}]}""");

        var http = Assert.IsType<HttpTransport>(m!.Transport);
        Assert.Equal("https://mcp.example/mcp", http.Url.OriginalString);
        Assert.Equal("${input:X-Key}", http.Headers["x-key"]);
    }

    [Fact]
    public void Read_UnsupportedPackagesOnly_IsAnError()
    {
        var (m, diagnostics) = Import("""{"name":"a/b","description":"d","version":"1","packages":[{"registryType":"mcpb","identifier":"x","version":"1"}]}""");

        Assert.Null(m);
        Assert.Contains(diagnostics, d => d.Severity == DiagnosticSeverity.Warning && d.Field == "packages[0].registryType");
        Assert.Contains(diagnostics, d => d.Severity == DiagnosticSeverity.Error && d.Message.Contains("no package", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_NameWithoutNamespace_IsAnError()
    {
        var (m, diagnostics) = Import("""{"name":"plain","description":"d","version":"1","remotes":[{"type":"sse","url":"https://x/sse"}]}""");

        Assert.Null(m);
        Assert.Equal("name", Assert.Single(diagnostics).Field);
    }
}
