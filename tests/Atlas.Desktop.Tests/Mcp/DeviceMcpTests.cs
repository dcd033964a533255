using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Storage;
using Atlas.Desktop.Tests.Infrastructure;
using Mmcp.Client.Consent;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Atlas.Desktop.Tests.Mcp;

/// <summary>The desktop's hub as a remote MCP endpoint for paired devices (<c>/mcp</c>): a real host (Kestrel, TLS,
/// SQLite) with the reference <c>server-everything</c> in its registry, reached by the MCP SDK's client over the pinned
/// HTTPS connection with the device's session token.</summary>
[Trait("Speed", "slow")]
public sealed class DeviceMcpTests
{
    internal const string Server = "io.github.everything";
    internal const string Echo = "io_github_everything__echo";
    private const string LongRunning = "io_github_everything__trigger-long-running-operation";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A host whose hub knows server-everything (over stdio).</summary>
    internal static async Task<AtlasTestHost> StartAsync()
    {
        var dataDir = AtlasTestHost.NewDataDir();
        var registry = Path.Combine(dataDir, "registry");
        Directory.CreateDirectory(registry);
        var manifest = new ServerManifest
        {
            Id = Server,
            Name = "Everything",
            Description = "The MCP reference test server",
            Version = "1.0.0",
            Transport = new StdioTransport { Command = "node", Args = [NpmServers.Script("server-everything"), "stdio"] },
        };
        await ManifestWriter.WriteFileAsync(manifest, RegistryPaths.GetManifestPath(registry, Server), Ct);
        var host = await AtlasTestHost.StartAsync(dataDir: dataDir);
        host.DeleteDataDirOnDispose = true;
        return host;
    }

    /// <summary>Pairs a device and gives it exactly <paramref name="permissions"/>; returns the client (fresh session).</summary>
    private static async Task<AtlasClient> DeviceAsync(AtlasTestHost host, params string[] permissions)
    {
        var client = await host.PairClientAsync("Laptop");
        await host.Get<DeviceService>().SetPermissionsAsync(client.Credentials.DeviceId, permissions, null, Ct);
        client.InvalidateSession();
        return client;
    }

    private static async Task<McpClient> McpAsync(AtlasTestHost host, string token) =>
        await McpClient.CreateAsync(new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = new Uri(host.BaseUri, "mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token },
            },
            host.PinnedHttp(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, ownsHttpClient: true), cancellationToken: Ct);

    private static HttpRequestMessage RawList(string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>A paired device with the tools permission lists the desktop's tools and calls one; the call is audited under the device.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task Mcp_WithADeviceSessionAndToolsPermission_ListsAndCallsDesktopTools_AuditedPerDevice()
    {
        await using var host = await StartAsync();
        using var device = await DeviceAsync(host, Permissions.Tools);
        var session = await device.GetSessionAsync(Ct);
        await using var mcp = await McpAsync(host, session.SessionToken);

        var tools = await mcp.ListToolsAsync(cancellationToken: Ct);
        Assert.Contains(tools, t => t.Name == Echo);
        var result = await mcp.CallToolAsync(Echo, new Dictionary<string, object?> { ["message"] = "from the laptop" }, cancellationToken: Ct);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("Echo: from the laptop", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        var audit = await host.Get<IAuditLog>().RecentAsync(50, Ct);
        var called = Assert.Single(audit, a => a.Event == "mcp_tool_called");
        Assert.Equal((device.Credentials.DeviceId, Echo + " ok"), (called.DeviceId, called.Detail));
        Assert.DoesNotContain(audit, a => a.Detail?.Contains(session.SessionToken, StringComparison.Ordinal) == true);
    }

    /// <summary>A tool's result reaches the device as its server wrote it: a field no MCP revision defines and an instant with 'Z' (a server on the official TypeScript SDK).</summary>
    [Fact]
    [Trait("Issue12", "fidelity")]
    public async Task Mcp_ToolResult_IsTheServersOwnJson()
    {
        var dataDir = AtlasTestHost.NewDataDir();
        var registry = Path.Combine(dataDir, "registry");
        Directory.CreateDirectory(registry);
        var manifest = new ServerManifest
        {
            Id = "io.cut",
            Name = "Cut",
            Description = "Answers results with fields no revision defines",
            Version = "1.0.0",
            Transport = new StdioTransport
            {
                Command = "node",
                Args = [Path.Combine(Repository.Root, "tests", "Mmcp.Gateway.Tests", "Fidelity", "cut-server.mjs"), Path.Combine(Repository.Root, "eng", "npm", "node_modules", "@modelcontextprotocol", "sdk")],
            },
        };
        await ManifestWriter.WriteFileAsync(manifest, RegistryPaths.GetManifestPath(registry, "io.cut"), Ct);
        await using var host = await AtlasTestHost.StartAsync(dataDir: dataDir);
        host.DeleteDataDirOnDispose = true;
        using var device = await DeviceAsync(host, Permissions.Tools);
        var session = await device.GetSessionAsync(Ct);

        using var request = new HttpRequestMessage(HttpMethod.Post, "mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"io_cut__rich","arguments":{}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session.SessionToken);
        using var http = host.PinnedHttp();
        using var response = await http.SendAsync(request, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(response.IsSuccessStatusCode, body);
        var json = response.Content.Headers.ContentType?.MediaType == "text/event-stream"
            ? body.Split('\n').Last(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..]
            : body;
        var result = System.Text.Json.Nodes.JsonNode.Parse(json)!["result"]!;
        Assert.True(result["x-vendor"] is not null, json);
        Assert.Equal("a field no revision defines", (string?)result["x-vendor"]);
        Assert.Equal("2026-01-02T03:04:05Z", (string?)result["content"]![0]!["annotations"]!["lastModified"]);
    }

    /// <summary>No token, a wrong token and a device without any tools permission are refused over HTTP with a JSON error; nothing is listed.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task Mcp_WithoutTokenWrongTokenOrToolsPermission_IsRefusedWithAClearError()
    {
        await using var host = await StartAsync();
        using var http = host.PinnedHttp();

        using var none = await http.SendAsync(RawList(null), Ct);
        Assert.Equal((HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized), (none.StatusCode, await AtlasTestHost.ErrorCodeAsync(none)));
        using var wrong = await http.SendAsync(RawList("st_" + new string('A', 43)), Ct);
        Assert.Equal((HttpStatusCode.Unauthorized, ErrorCodes.Unauthorized), (wrong.StatusCode, await AtlasTestHost.ErrorCodeAsync(wrong)));

        using var chatOnly = await DeviceAsync(host, Permissions.Chat);
        var token = (await chatOnly.GetSessionAsync(Ct)).SessionToken;
        using var forbidden = await http.SendAsync(RawList(token), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var error = (await forbidden.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, Ct))!.Error;
        Assert.Equal(ErrorCodes.Forbidden, error.Code);
        Assert.Contains("'tools' permission", error.Message, StringComparison.Ordinal);
        Assert.Contains(await host.Get<IAuditLog>().RecentAsync(50, Ct), a => a.Event == "mcp_refused" && a.DeviceId == chatOnly.Credentials.DeviceId);
    }

    /// <summary>A tool the desktop user denied is neither listed nor run; the call is refused with a JSON-RPC error and audited.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task Mcp_ToolDeniedByConsentOrOutsideTheDevicesServers_IsNotListedAndItsCallIsRefused()
    {
        await using var host = await StartAsync();
        using var device = await DeviceAsync(host, Permissions.Tools);
        await using var mcp = await McpAsync(host, (await device.GetSessionAsync(Ct)).SessionToken);
        await host.Get<ConsentStore>().SetToolAsync(Server, "echo", ConsentDecision.Deny, cancellationToken: Ct);

        var tools = await mcp.ListToolsAsync(cancellationToken: Ct);
        Assert.DoesNotContain(tools, t => t.Name == Echo);
        var denied = await Assert.ThrowsAsync<McpProtocolException>(async () =>
            await mcp.CallToolAsync(Echo, new Dictionary<string, object?> { ["message"] = "no" }, cancellationToken: Ct));
        Assert.Contains("tool_denied", denied.Message, StringComparison.Ordinal);

        using var other = await DeviceAsync(host, Permissions.ToolsServerPrefix + "some.other.server");
        await using var otherMcp = await McpAsync(host, (await other.GetSessionAsync(Ct)).SessionToken);
        Assert.Empty(await otherMcp.ListToolsAsync(cancellationToken: Ct));
        var outside = await Assert.ThrowsAsync<McpProtocolException>(async () =>
            await otherMcp.CallToolAsync("io_github_everything__get-sum", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: Ct));
        Assert.Contains("permission", outside.Message, StringComparison.Ordinal);

        var audit = await host.Get<IAuditLog>().RecentAsync(50, Ct);
        Assert.Contains(audit, a => a.Event == "mcp_tool_denied" && a.DeviceId == device.Credentials.DeviceId && a.Detail == Echo);
        Assert.Contains(audit, a => a.Event == "mcp_tool_denied" && a.DeviceId == other.Credentials.DeviceId);
        Assert.DoesNotContain(audit, a => a.Event == "mcp_tool_called");
    }

    /// <summary>Revoking the device ends its running call at once and the next request gets 401 with a clear message.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task Mcp_WhenTheDeviceIsRevoked_ItsRunningCallEnds_AndTheNextRequestGets401()
    {
        await using var host = await StartAsync();
        using var device = await DeviceAsync(host, Permissions.Tools);
        var token = (await device.GetSessionAsync(Ct)).SessionToken;
        await using var mcp = await McpAsync(host, token);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = mcp.CallToolAsync(LongRunning, new Dictionary<string, object?> { ["duration"] = 3600, ["steps"] = 3600 },
            new Progress<ProgressNotificationValue>(_ => started.TrySetResult()), cancellationToken: Ct).AsTask();
        await started.Task.WaitAsync(TestTimeouts.Default, Ct);

        await host.Get<DeviceService>().RevokeAsync(device.Credentials.DeviceId, deleteFiles: false, Ct);

        await Assert.ThrowsAnyAsync<Exception>(() => running.WaitAsync(TestTimeouts.Default, Ct));
        Assert.Equal(0, host.Get<DeviceLifetimes>().CountFor(device.Credentials.DeviceId));
        using var http = host.PinnedHttp();
        using var after = await http.SendAsync(RawList(token), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        var body = await after.Content.ReadAsStringAsync(Ct);
        Assert.Contains("revoked", body, StringComparison.Ordinal);
    }

    /// <summary>Removing the device's tools permission ends its running call at once and the next request gets 403.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task Mcp_WhenTheToolsPermissionIsRemoved_ItsRunningCallEnds_AndTheNextRequestGets403()
    {
        await using var host = await StartAsync();
        using var device = await DeviceAsync(host, Permissions.Tools);
        var token = (await device.GetSessionAsync(Ct)).SessionToken;
        await using var mcp = await McpAsync(host, token);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = mcp.CallToolAsync(LongRunning, new Dictionary<string, object?> { ["duration"] = 3600, ["steps"] = 3600 },
            new Progress<ProgressNotificationValue>(_ => started.TrySetResult()), cancellationToken: Ct).AsTask();
        await started.Task.WaitAsync(TestTimeouts.Default, Ct);

        await host.Get<DeviceService>().SetPermissionsAsync(device.Credentials.DeviceId, [Permissions.Chat], null, Ct);

        await Assert.ThrowsAnyAsync<Exception>(() => running.WaitAsync(TestTimeouts.Default, Ct));
        using var http = host.PinnedHttp();
        using var after = await http.SendAsync(RawList(token), Ct);
        Assert.Equal((HttpStatusCode.Forbidden, ErrorCodes.Forbidden), (after.StatusCode, await AtlasTestHost.ErrorCodeAsync(after)));
    }

    /// <summary>The official TypeScript SDK client, an independent peer, lists and calls the desktop's tools with a device session.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task Mcp_TypeScriptSdkClient_ListsAndCallsDesktopTools()
    {
        await using var host = await StartAsync();
        using var device = await DeviceAsync(host, Permissions.Tools);
        var certificate = Path.Combine(host.DataDir, "peer-trust.pem");
        await File.WriteAllTextAsync(certificate, host.Get<Atlas.Desktop.Identity.DesktopIdentity>().Certificate.ExportCertificatePem(), Ct);
        var start = new System.Diagnostics.ProcessStartInfo("node", [Path.Combine(AppContext.BaseDirectory, "Mcp", "ts-client.mjs"), new Uri(host.BaseUri, "mcp").ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["MCP_SDK_DIR"] = Repository.Path("eng", "npm", "node_modules", "@modelcontextprotocol", "sdk");
        start.Environment["MCP_TOKEN"] = (await device.GetSessionAsync(Ct)).SessionToken;
        start.Environment["NODE_EXTRA_CA_CERTS"] = certificate;
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);

        var output = await stdout;
        var answer = System.Text.Json.JsonDocument.Parse(output.Trim()).RootElement;
        Assert.False(answer.TryGetProperty("error", out var error), $"{error}\n{await stderr}");
        Assert.Contains(answer.GetProperty("tools").EnumerateArray(), t => t.GetString() == Echo);
        Assert.Equal("Echo: from the ts sdk", answer.GetProperty("echo").GetString());
    }

    /// <summary>A request from a foreign browser origin is refused before any MCP work, like every other endpoint.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task Mcp_FromAForeignOrigin_IsRefused()
    {
        await using var host = await StartAsync();
        using var device = await DeviceAsync(host, Permissions.Tools);
        using var http = host.PinnedHttp();
        using var request = RawList((await device.GetSessionAsync(Ct)).SessionToken);
        request.Headers.Add("Origin", "https://evil.example");

        using var response = await http.SendAsync(request, Ct);

        Assert.Equal((HttpStatusCode.Forbidden, ErrorCodes.OriginNotAllowed), (response.StatusCode, await AtlasTestHost.ErrorCodeAsync(response)));
    }
}
