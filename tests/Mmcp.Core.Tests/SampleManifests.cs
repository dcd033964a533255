namespace Mmcp.Core.Tests;

internal static class SampleManifests
{
    public static string Minimal(string id = "com.example.app", string transport = """{"type":"socket","path":"app.sock"}""") =>
        $$"""{"id":"{{id}}","name":"App","description":"An app.","version":"1.0.0","transport":{{transport}}}""";

    /// <summary>The minimal manifest with extra top-level JSON members appended (for example <c>"x":1</c>).</summary>
    public static string MinimalWith(string members) => Minimal()[..^1] + "," + members + "}";

    public const string Full = """
        {
          "$schema": "https://mmcp.dev/schemas/manifest.v1.schema.json",
          "manifestVersion": 1,
          "id": "io.mmcp.examples.files",
          "name": "File Manager",
          "description": "Lists and reads files.",
          "version": "1.2.3",
          "categories": ["files"],
          "permissions": ["files.read"],
          "protocolVersion": "2025-11-25",
          "transport": { "type": "socket", "path": "files.sock" },
          "launch": { "command": "/usr/bin/files", "args": ["--mmcp"], "env": { "A": "1" }, "cwd": "/tmp" },
          "timeouts": { "launchMs": 5000, "handshakeMs": 2000, "callMs": 30000, "idleMs": 60000 },
          "capabilities": {
            "tools": [
              { "name": "list_files", "description": "Lists files.", "inputSchema": { "type": "object", "properties": { "path": { "type": "string" } }, "required": ["path"] }, "annotations": { "readOnlyHint": true } }
            ],
            "resources": [ { "uri": "file:///readme", "name": "readme", "mimeType": "text/plain" } ],
            "resourceTemplates": [ { "uriTemplate": "file:///{path}", "name": "file" } ],
            "prompts": [ { "name": "summarize", "description": "Summarize a file", "arguments": [ { "name": "path", "required": true } ] } ]
          }
        }
        """;
}
