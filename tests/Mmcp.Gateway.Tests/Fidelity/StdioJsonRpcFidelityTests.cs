using System.Diagnostics;
using System.Text.Json;

namespace Mmcp.Gateway.Tests.Fidelity;

/// <summary>The JSON-RPC errors the spec names, on <c>mmcp stdio</c> (a real process over a real upstream).</summary>
[Trait("Speed", "slow")]
public sealed class StdioJsonRpcFidelityTests
{
    private static string Mmcp => Path.Combine(AppContext.BaseDirectory, "mmcp.dll");

    /// <summary>On stdio, a tools/call without a name or with non-object arguments is -32602, and malformed JSON is -32700.</summary>
    [Fact]
    [Trait("Issue12", "5")]
    public async Task Stdio_MalformedJsonAndBadToolsCall_AnswerTheSpecsCodes()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var ct = TestContext.Current.CancellationToken;
        var start = new ProcessStartInfo("dotnet", [Mmcp, "stdio", "--no-import"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in env.Variables)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync(ct);
        try
        {
            var stdin = process.StandardInput;
            var stdout = process.StandardOutput;
            async Task<JsonElement> SendAsync(string line, string? expectId)
            {
                await stdin.WriteLineAsync(line.AsMemory(), ct);
                await stdin.FlushAsync(ct);
                while (true)
                {
                    var answer = await stdout.ReadLineAsync(ct).AsTask().WaitAsync(TestTimeouts.Default, ct) ?? throw new InvalidOperationException("mmcp stdio closed its output.");
                    using var document = JsonDocument.Parse(answer);
                    var root = document.RootElement;
                    if (root.TryGetProperty("id", out var id) && (expectId is null ? id.ValueKind == JsonValueKind.Null : id.ToString() == expectId))
                    {
                        return root.Clone();
                    }
                }
            }

            await SendAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""", "1");
            await stdin.WriteLineAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""".AsMemory(), ct);

            var noName = await SendAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{}}}""", "2");
            var stringArguments = await SendAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"io_test_alpha__echo","arguments":"hello"}}""", "3");
            var malformed = await SendAsync("""{"jsonrpc":"2.0","id":4,"method":""", null);
            var works = await SendAsync("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"io_test_alpha__echo","arguments":{"text":"still here"}}}""", "5");

            Assert.Equal(-32602, noName.GetProperty("error").GetProperty("code").GetInt32());
            Assert.Equal(-32602, stringArguments.GetProperty("error").GetProperty("code").GetInt32());
            Assert.Equal(-32700, malformed.GetProperty("error").GetProperty("code").GetInt32());
            Assert.Contains("still here", works.GetProperty("result").ToString(), StringComparison.Ordinal);
        }
        finally
        {
            process.StandardInput.Close();
            if (!process.WaitForExit(TestTimeouts.Default))
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
