using System.Net;
using System.Text.Json.Nodes;
using Mmcp.Core.Manifests;

namespace Mmcp.Gateway.Tests.PassThrough;

/// <summary>/servers/{id}/mcp with an upstream per session: a cancelled request is cancelled on the server too, as seen on the server's stdin.</summary>
[Trait("Speed", "slow")]
public sealed class PassThroughCancellationTests
{
    internal const string Server = "local.everything";
    private const string Path = "/servers/" + Server + "/mcp";

    /// <summary>A plain call (the direct lane) cancelled by the client is announced to the server with the id the server saw.</summary>
    [Fact]
    [Trait("Issue12", "1")]
    public async Task DedicatedSession_PlainCallCancelled_ServerStdinGetsCancelledWithItsOwnRequestId()
    {
        using var env = new TestEnvironment();
        var tap = await WriteTappedEverythingAsync(env);
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: Path);

        var call = session.PostAsync("""{"jsonrpc":"2.0","id":"long-1","method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":600,"steps":600}}}""");
        var upstreamId = await UpstreamCallIdAsync(tap);
        var cancel = await session.PostAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long-1","reason":"user"}}""");

        Assert.Equal(HttpStatusCode.Accepted, cancel.Status);
        await WaitForCancelledAsync(tap, upstreamId);
        var ended = await call.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, ended.Status);
    }

    /// <summary>A call with a progress token (answered on its own stream by the SDK) cancelled by the client is announced to the server too.</summary>
    [Fact]
    [Trait("Issue12", "1")]
    public async Task DedicatedSession_StreamedCallCancelled_ServerStdinGetsCancelledWithItsOwnRequestId()
    {
        using var env = new TestEnvironment();
        var tap = await WriteTappedEverythingAsync(env);
        await using var gateway = await GatewayHost.StartAsync(env);
        var session = await RawSession.OpenAsync(gateway, path: Path);

        _ = session.PostAsync("""{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":600,"steps":600},"_meta":{"progressToken":"p7"}}}""");
        var upstreamId = await UpstreamCallIdAsync(tap);
        var cancel = await session.PostAsync("""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user"}}""");

        Assert.Equal(HttpStatusCode.Accepted, cancel.Status);
        await WaitForCancelledAsync(tap, upstreamId);
        await session.DeleteAsync();
    }

    /// <summary>server-everything behind <c>tee</c>: every byte the gateway writes to the server's stdin is also written to the tap file.</summary>
    internal static async Task<string> WriteTappedEverythingAsync(TestEnvironment env)
    {
        var tap = System.IO.Path.Combine(env.Root, "everything-stdin.jsonl");
        await File.WriteAllTextAsync(tap, string.Empty, TestContext.Current.CancellationToken);
        await env.WriteManifestAsync(Servers.Manifest(Server, new StdioTransport
        {
            Command = "sh",
            Args = ["-c", "tee -a \"$0\" | exec node \"$1\" stdio", tap, NpmServers.Script("server-everything")],
        }));
        return tap;
    }

    /// <summary>Waits until the server's stdin shows the long call and returns the JSON-RPC id it carried there.</summary>
    internal static async Task<string> UpstreamCallIdAsync(string tap)
    {
        var call = await WaitForLineAsync(tap, m => m["method"]?.GetValue<string>() == "tools/call" && m["params"]?["name"]?.GetValue<string>() == "trigger-long-running-operation");
        return call["id"]!.ToJsonString();
    }

    internal static Task WaitForCancelledAsync(string tap, string upstreamId) =>
        WaitForLineAsync(tap, m => m["method"]?.GetValue<string>() == "notifications/cancelled" && m["params"]?["requestId"]?.ToJsonString() == upstreamId);

    /// <summary>Reads the tap until a message matches (a condition, not a fixed delay), within the shared timeout.</summary>
    private static async Task<JsonNode> WaitForLineAsync(string tap, Func<JsonNode, bool> match)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TestTimeouts.Default);
        while (true)
        {
            await using (var stream = new FileStream(tap, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync(timeout.Token) is { } line)
                {
                    if (line.Length > 0 && JsonNode.Parse(line) is { } message && match(message))
                    {
                        return message;
                    }
                }
            }

            await Task.Delay(50, timeout.Token); // the tap is a file written by another process: re-read it until the line is there
        }
    }
}
