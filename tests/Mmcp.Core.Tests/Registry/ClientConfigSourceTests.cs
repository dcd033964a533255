using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.Core.Registry.Imports;

namespace Mmcp.Core.Tests.Registry;

public sealed class ClientConfigSourceTests
{
    [Fact]
    public void Read_ClaudeDesktop_ImportsStdioAndHttpServersWithProvenance()
    {
        using var dir = new TestSandbox();
        var path = dir.Write("claude_desktop_config.json", """
            {
              "globalShortcut": "Ctrl+Space",
              "mcpServers": {
                "filesystem": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "${userHome}/Documents"], "env": { "DEBUG": "1" } },
                "Remote Notes": { "url": "https://notes.example/mcp", "headers": { "Authorization": "Bearer ${env:NOTES_TOKEN}" } },
                "old": { "command": "x", "disabled": true }
              }
            }
            """);

        var result = new ClientConfigSource(ServerSourceKind.ClaudeDesktop, path, "/home/u").Read();

        Assert.Empty(result.Diagnostics);
        Assert.Equal(["filesystem", "remote-notes"], result.Servers.Select(s => s.Manifest.Id));
        var fs = Assert.IsType<StdioTransport>(result.Servers[0].Manifest.Transport);
        Assert.Equal("npx", fs.Command);
        Assert.Equal("/home/u/Documents", fs.Args[2]);
        Assert.Equal("1", fs.Env["DEBUG"]);
        Assert.Equal(new ServerProvenance(ServerSourceKind.ClaudeDesktop, path, "filesystem"), result.Servers[0].Provenance);
        var notes = Assert.IsType<HttpTransport>(result.Servers[1].Manifest.Transport);
        Assert.Equal("Bearer ${env:NOTES_TOKEN}", notes.Headers["authorization"]);
        Assert.Equal("Remote Notes", result.Servers[1].Manifest.Name);
    }

    [Fact]
    public void Read_EntriesThatRunMmcpStdio_AreNotImported_SoTheHubNeverStartsItself()
    {
        using var dir = new TestSandbox();
        var path = dir.Write("claude_desktop_config.json", """
            {
              "mcpServers": {
                "mmcp": { "command": "mmcp", "args": ["stdio", "--no-import"] },
                "mmcp-dev": { "command": "dotnet", "args": ["/src/Mmcp.Cli/bin/Release/net10.0/mmcp.dll", "stdio"] },
                "mmcp-tool": { "command": "dnx", "args": ["-y", "mmcp", "stdio"] },
                "mmcp-list": { "command": "/usr/local/bin/mmcp", "args": ["tools"] },
                "weather": { "command": "npx", "args": ["-y", "@example/weather", "stdio"] }
              }
            }
            """);

        var result = new ClientConfigSource(ServerSourceKind.ClaudeDesktop, path, "/home/u").Read();

        Assert.Equal(["mmcp-list", "weather"], result.Servers.Select(s => s.Manifest.Id));
        Assert.Equal(3, result.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Warning && d.Message.Contains("mmcp stdio", StringComparison.Ordinal)));
    }

    [Fact]
    public void Read_VsCodeWorkspace_HandlesCommentsTrailingCommasInputsEnvFileAndWorkspaceFolder()
    {
        using var dir = new TestSandbox();
        dir.Write(".env", "# secrets\nexport TOKEN=\"from-file\"\nMODE=prod\n");
        var path = dir.Write(Path.Combine(".vscode", "mcp.json"), """
            {
              // VS Code writes JSON with comments
              "inputs": [ { "type": "promptString", "id": "api-key", "description": "API key", "password": true } ],
              "servers": {
                "github": { "type": "http", "url": "https://api.example/mcp", "headers": { "Authorization": "Bearer ${input:api-key}" } },
                "local": { "type": "stdio", "command": "${workspaceFolder}/bin/server", "envFile": "${workspaceFolder}/.env", "env": { "MODE": "dev" } },
                "legacy": { "type": "sse", "url": "http://127.0.0.1:9000/sse" },
              },
            }
            """);

        var result = new ClientConfigSource(ServerSourceKind.VsCode, path, "/home/u", dir.Root).Read();

        Assert.Equal(["github", "local", "legacy"], result.Servers.Select(s => s.Manifest.Id));
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("MMCP_INPUT_API_KEY", warning.Message, StringComparison.Ordinal);
        Assert.Contains("password", warning.Message, StringComparison.Ordinal);
        var local = Assert.IsType<StdioTransport>(result.Servers[1].Manifest.Transport);
        Assert.Equal(Path.Combine(dir.Root, "bin", "server"), local.Command);
        Assert.Equal("from-file", local.Env["TOKEN"]);
        Assert.Equal("dev", local.Env["MODE"]);
        Assert.Equal(dir.Root, local.Cwd);
        Assert.True(Assert.IsType<HttpTransport>(result.Servers[2].Manifest.Transport).LegacySse);
    }

    [Fact]
    public void Read_Cursor_ReportsBadEntriesAndKeepsGoodOnes()
    {
        using var dir = new TestSandbox();
        var path = dir.Write("mcp.json", """
            { "mcpServers": {
                "good": { "command": "uvx", "args": ["mcp-server-time"] },
                "nothing": { "env": {} },
                "badurl": { "url": "file:///etc/passwd" },
                "weird": { "type": "websocket", "url": "ws://x" },
                "My Server": { "command": "a" },
                "my-server": { "command": "b" }
            } }
            """);

        var result = new ClientConfigSource(ServerSourceKind.Cursor, path, "/home/u").Read();

        Assert.Equal(["good", "my-server"], result.Servers.Select(s => s.Manifest.Id));
        Assert.Equal("a", Assert.IsType<StdioTransport>(result.Servers[1].Manifest.Transport).Command);
        Assert.Contains(result.Diagnostics, d => d.Field == "mcpServers.nothing" && d.Message.Contains("neither", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Field == "mcpServers.badurl.url");
        Assert.Contains(result.Diagnostics, d => d.Field == "mcpServers.weird.type");
        Assert.Contains(result.Diagnostics, d => d.Field == "mcpServers.my-server" && d.Message.Contains("already has", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_MissingFile_IsEmpty_AndBrokenFileIsReported()
    {
        using var dir = new TestSandbox();
        var broken = dir.Write("broken.json", "{ \"mcpServers\": ");

        Assert.Empty(new ClientConfigSource(ServerSourceKind.Cursor, dir.Combine("none.json"), "/h").Read().Diagnostics);
        var error = Assert.Single(new ClientConfigSource(ServerSourceKind.Cursor, broken, "/h").Read().Diagnostics);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.Equal(broken, error.File);
    }
}
