using System.Net;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Infrastructure;
using Mmcp.Client.Consent;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using ModelContextProtocol.Protocol;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Admin;

/// <summary>The admin UI's MCP servers view over a real manifest registry (the reference <c>server-everything</c> over
/// stdio, a server that cannot start, an invalid manifest), and consent decisions that land in the same file
/// <c>mmcp consent</c> uses and change what chat offers the model and lets it call.</summary>
[Trait("Speed", "slow")]
public sealed class AdminServersTests
{
    internal const string Everything = "io.github.everything";
    internal const string Broken = "io.example.broken";
    private const string Echo = "io_github_everything__echo";
    private const string Sum = "io_github_everything__get-sum";

    /// <summary>Writes the manifests into the data directory's registry (see <see cref="AtlasTestHost"/>).</summary>
    internal static async Task WriteRegistryAsync(string dataDir)
    {
        var registry = Path.Combine(dataDir, "registry");
        Directory.CreateDirectory(registry);
        await ManifestWriter.WriteFileAsync(new ServerManifest
        {
            Id = Everything,
            Name = "Everything",
            Description = "The MCP reference test server",
            Version = "1.0.0",
            Transport = new StdioTransport { Command = "node", Args = [NpmServers.Script("server-everything"), "stdio"], Env = new Dictionary<string, string> { ["SECRET_TOKEN"] = "hunter2" } },
        }, RegistryPaths.GetManifestPath(registry, Everything), Ct);
        await ManifestWriter.WriteFileAsync(new ServerManifest
        {
            Id = Broken,
            Name = "Broken",
            Description = "A server whose program is missing",
            Version = "1.0.0",
            Transport = new StdioTransport { Command = "node", Args = [Path.Combine(dataDir, "missing-server.js")] },
        }, RegistryPaths.GetManifestPath(registry, Broken), Ct);
        await File.WriteAllTextAsync(Path.Combine(registry, "io.example.invalid.json"), """{"id":"io.example.invalid","name":"No transport"}""", Ct);
    }

    /// <summary>A host over <see cref="WriteRegistryAsync"/>'s registry; <paramref name="prepare"/> may add to the new data
    /// directory first (a consent file).</summary>
    internal static async Task<AtlasTestHost> StartWithRegistryAsync(Func<string, Task>? prepare = null)
    {
        var dataDir = AtlasTestHost.NewDataDir();
        await WriteRegistryAsync(dataDir);
        if (prepare is not null)
        {
            await prepare(dataDir);
        }

        var host = await AtlasTestHost.StartAsync(dataDir: dataDir);
        host.DeleteDataDirOnDispose = true;
        return host;
    }

    [Fact]
    public async Task Servers_FromARealRegistry_ShowProvenanceTransportStateToolsAndDiagnostics_WithoutRecordingConsent()
    {
        await using var host = await StartWithRegistryAsync();
        var dataDir = host.DataDir;
        using var admin = await AdminClient.SignInAsync(host);

        var view = await admin.GetAsync("servers");

        Assert.Equal(Path.Combine(dataDir, "consent.json"), view.GetProperty("consentFile").GetString());
        var servers = view.GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal([Broken, Everything], servers.Keys.Order(StringComparer.Ordinal));
        var everything = servers[Everything];
        Assert.Equal(("manifest", RegistryPaths.GetManifestPath(Path.Combine(dataDir, "registry"), Everything)),
            (everything.GetProperty("provenance").GetProperty("kind").GetString(), everything.GetProperty("provenance").GetProperty("location").GetString()));
        Assert.Equal("stdio", everything.GetProperty("transport").GetProperty("type").GetString());
        Assert.StartsWith("node ", everything.GetProperty("transport").GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", view.GetRawText(), StringComparison.Ordinal); // environment values never leave the desktop
        Assert.Equal("connected", everything.GetProperty("state").GetString());
        Assert.True(everything.GetProperty("toolCount").GetInt32() >= 5);
        Assert.Equal(everything.GetProperty("toolCount").GetInt32(), everything.GetProperty("tools").GetProperty("allowed").GetInt32());

        var broken = servers[Broken];
        Assert.Equal("failed", broken.GetProperty("state").GetString());
        Assert.False(string.IsNullOrEmpty(broken.GetProperty("lastError").GetProperty("message").GetString()));
        Assert.Equal(0, broken.GetProperty("toolCount").GetInt32());
        var diagnostics = view.GetProperty("diagnostics").EnumerateArray().ToList();
        Assert.All(diagnostics, d => Assert.EndsWith("io.example.invalid.json", d.GetProperty("file").GetString(), StringComparison.Ordinal));
        Assert.Contains(diagnostics, d => d.GetProperty("field").GetString() == "transport");

        var tools = await admin.GetAsync($"servers/{Everything}/tools");
        var echo = tools.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "echo");
        Assert.Equal(Echo, echo.GetProperty("exposedName").GetString());
        Assert.False(string.IsNullOrEmpty(echo.GetProperty("description").GetString()));
        Assert.True(echo.GetProperty("annotations").GetProperty("readOnly").GetBoolean());
        Assert.Equal("object", echo.GetProperty("inputSchema").GetProperty("type").GetString());
        Assert.Equal("allowed", echo.GetProperty("consent").GetProperty("status").GetString()); // trust on first use
        Assert.StartsWith("sha256:", echo.GetProperty("hash").GetString(), StringComparison.Ordinal);

        // Looking is not approving: nothing was pinned, so the file does not even exist yet.
        Assert.False(File.Exists(Path.Combine(dataDir, "consent.json")));
    }

    [Fact]
    public async Task Consent_DecidedInTheAdminUi_IsTheMmcpConsentFile_AndChatOffersAndCallsOnlyConsentedTools()
    {
        await using var chat = await StartAsync(prepare: WriteRegistryAsync);
        using var admin = await AdminClient.SignInAsync(chat.Host);
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        var file = Path.Combine(chat.Host.DataDir, "consent.json");
        chat.Fake.Responder = _ => FakeReply.Text("ok");

        // Deny one tool in the admin UI: the mmcp consent store (a separate instance, as the mmcp CLI would open it) sees it.
        var denied = await admin.PostAsync($"servers/{Everything}/consent", new { tool = "echo", decision = "deny" });
        Assert.Equal("denied", ToolOf(denied, "echo").GetProperty("consent").GetProperty("status").GetString());
        var mmcp = new ConsentStore(file);
        Assert.Equal(ConsentDecision.Deny, mmcp.List().Tools.Single(t => t.ServerId == Everything && t.ToolName == "echo").Decision);

        await AllAsync(phone.Chat.SendAsync(Message("what tools do you have?"), cancellationToken: Ct));
        var offered = chat.Fake.Requests[^1].ToolNames.ToList();
        Assert.DoesNotContain(Echo, offered);
        Assert.Contains(Sum, offered);

        // A definition change (mmcp pinned an older definition of get-sum) holds the tool: shown as changed, not offered.
        var old = new Tool { Name = "get-sum", Description = "Adds two numbers (old wording)", InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement };
        await mmcp.SetToolAsync(Everything, "get-sum", ConsentDecision.Allow, old, Ct);
        var tools = await admin.GetAsync($"servers/{Everything}/tools");
        var held = ToolOf(tools, "get-sum").GetProperty("consent");
        Assert.Equal("changed", held.GetProperty("status").GetString());
        Assert.Equal(ConsentStore.ComputeHash(old), held.GetProperty("pinnedHash").GetString());
        var summary = (await admin.GetAsync("servers")).GetProperty("servers").EnumerateArray().Single(s => s.GetProperty("id").GetString() == Everything);
        Assert.Equal((1, 1), (summary.GetProperty("tools").GetProperty("changed").GetInt32(), summary.GetProperty("tools").GetProperty("denied").GetInt32()));
        await AllAsync(phone.Chat.SendAsync(Message("again"), cancellationToken: Ct));
        Assert.DoesNotContain(Sum, chat.Fake.Requests[^1].ToolNames);

        // Re-approving pins the current definition, in the shared file; the tool is offered again.
        var approved = await admin.PostAsync($"servers/{Everything}/consent", new { tool = "get-sum", decision = "allow" });
        var current = ToolOf(approved, "get-sum");
        Assert.Equal("allowed", current.GetProperty("consent").GetProperty("status").GetString());
        Assert.Equal(current.GetProperty("hash").GetString(), new ConsentStore(file).List().Tools.Single(t => t.ToolName == "get-sum").PinnedHash);
        await AllAsync(phone.Chat.SendAsync(Message("and now?"), cancellationToken: Ct));
        Assert.Contains(Sum, chat.Fake.Requests[^1].ToolNames);

        // Denying the whole server hides every tool of it.
        await admin.PostAsync($"servers/{Everything}/consent", new { decision = "deny" });
        Assert.Equal(ConsentDecision.Deny, new ConsentStore(file).GetServer(Everything)!.Decision);
        await AllAsync(phone.Chat.SendAsync(Message("anything left?"), cancellationToken: Ct));
        Assert.Empty(chat.Fake.Requests[^1].ToolNames);
    }

    [Fact]
    public async Task Tool_DeniedInTheAdminUiWhileAnAnswerRuns_IsRefusedAtCallTime_AndTheModelIsTold()
    {
        await using var chat = await StartAsync(prepare: WriteRegistryAsync);
        using var admin = await AdminClient.SignInAsync(chat.Host);
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(FakeReply.Stream().Role().ToolCallDelta(0, "call_1", Echo, """{"message":""").Signal(reached).Gate(gate)
            .ToolCallDelta(0, null, null, """late"}""").Finish("tool_calls").Done());
        chat.Fake.Responder = request => FakeReply.Text("Tools said: " + string.Join(" | ", request.ToolMessages.Select(m => FakeRequest.Text(m))));

        var sending = AllAsync(phone.Chat.SendAsync(Message("echo late"), cancellationToken: Ct));
        await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
        Assert.Contains(Echo, chat.Fake.Requests[0].ToolNames);
        await admin.PostAsync($"servers/{Everything}/consent", new { tool = "echo", decision = "deny" });
        gate.SetResult();
        var events = await sending;

        var result = events.Single(e => e.Kind == ChatEventKinds.ToolResult).ToolResult!;
        Assert.Equal((false, ErrorCodes.ToolDenied), (result.Ok, result.Error!.Code));
        Assert.Contains("denied by the user", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains("denied by the user", FakeRequest.Text(chat.Fake.Requests[1].ToolMessages.Single()), StringComparison.Ordinal);
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
    }

    [Fact]
    public async Task ConsentChanges_WithBadInput_GetClearErrors_AndChangeNothing()
    {
        await using var host = await StartWithRegistryAsync();
        var dataDir = host.DataDir;
        using var admin = await AdminClient.SignInAsync(host);

        var cases = new (string Path, object Body, HttpStatusCode Status, string Hint)[]
        {
            ($"servers/{Everything}/consent", new { decision = "maybe" }, HttpStatusCode.BadRequest, "allow"),
            ($"servers/{Everything}/consent", new { tool = "echo" }, HttpStatusCode.BadRequest, "reset"),
            ("servers/io.example.nobody/consent", new { decision = "deny" }, HttpStatusCode.NotFound, "io.example.nobody"),
            ($"servers/{Everything}/consent", new { tool = "no-such-tool", decision = "allow" }, HttpStatusCode.NotFound, "echo"),
            ($"servers/{Broken}/consent", new { tool = "anything", decision = "allow" }, HttpStatusCode.NotFound, "cannot list its tools"),
        };
        foreach (var (path, body, status, hint) in cases)
        {
            using var response = await admin.SendAsync(HttpMethod.Post, path, body);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(status == response.StatusCode, $"{path} {JsonSerializer.Serialize(body)}: {(int)response.StatusCode} {text}");
            Assert.Contains(hint, text, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(dataDir, "consent.json")));
        using var unknown = await admin.SendAsync(HttpMethod.Get, "servers/io.example.nobody/tools");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private static JsonElement ToolOf(JsonElement view, string name) =>
        view.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == name);
}
