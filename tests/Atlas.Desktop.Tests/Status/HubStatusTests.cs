using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Infrastructure;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Atlas.Desktop.Tests.Status;

/// <summary>The <c>hub</c> section of <c>status_update</c>: which of the desktop's MCP servers a device sees, and what of
/// the desktop's file system their descriptions give away.</summary>
public sealed class HubStatusTests
{
    private const string Notes = "local.notes";
    private const string Mail = "local.mail";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Home => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    /// <summary>Before: every device saw the desktop's whole MCP inventory in <c>status_update.hub</c>, tools permission or not.</summary>
    [Fact]
    [Trait("Hardening", "6")]
    public async Task StatusUpdate_DeviceWithoutTools_SeesNoServers()
    {
        await using var host = await StartWithServersAsync();
        var (deviceId, token) = await host.ProvisionAsync("Phone");
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.Chat, Permissions.FilesRead, Permissions.MediaProcess], null, Ct);

        var status = await StatusAsync(host, token);

        Assert.Empty(status["hub"]!["servers"]!.AsArray());
        Assert.DoesNotContain("Notes", status.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>Before: a device allowed one server (<c>tools:&lt;id&gt;</c>) still saw every other server of the desktop.</summary>
    [Fact]
    [Trait("Hardening", "6")]
    public async Task StatusUpdate_DeviceWithOneServersTools_SeesOnlyThatServer()
    {
        await using var host = await StartWithServersAsync();
        var (deviceId, token) = await host.ProvisionAsync("Phone");
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.Chat, Permissions.ToolsServerPrefix + Mail], null, Ct);

        var status = await StatusAsync(host, token);

        var server = Assert.Single(status["hub"]!["servers"]!.AsArray());
        Assert.Equal((Mail, true), ((string?)server!["id"], (bool)server["allowed"]!));
    }

    /// <summary>Before: a server's description went out as written, here with the desktop user's home directory and the
    /// absolute path of the server's command.</summary>
    [Fact]
    [Trait("Hardening", "6")]
    public async Task StatusUpdate_DeviceWithTools_SeesServersWithoutLocalPaths()
    {
        await using var host = await StartWithServersAsync();
        var (deviceId, token) = await host.ProvisionAsync("Phone");
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.Chat, Permissions.Tools], null, Ct);

        var status = await StatusAsync(host, token);

        var servers = status["hub"]!["servers"]!.AsArray();
        Assert.Equal([Mail, Notes], servers.Select(s => (string?)s!["id"]).Order(StringComparer.Ordinal));
        var frame = status.ToJsonString();
        Assert.DoesNotContain(Home, frame, StringComparison.Ordinal);
        Assert.DoesNotContain("/opt/notes", frame, StringComparison.Ordinal);
        Assert.DoesNotContain(@"C:\\Users", frame, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(host.DataDir, frame, StringComparison.Ordinal);
        var notes = (string)servers.Single(s => (string?)s!["id"] == Notes)!["description"]!;
        Assert.Contains("Keeps your notes", notes, StringComparison.Ordinal); // the prose survives,
        Assert.Contains("https://notes.example/help/tools", notes, StringComparison.Ordinal); // and so do links
    }

    private static async Task<AtlasTestHost> StartWithServersAsync()
    {
        var dataDir = AtlasTestHost.NewDataDir();
        var registry = Path.Combine(dataDir, "registry");
        Directory.CreateDirectory(registry);
        var tool = Path.Combine(Home, ".local", "bin", "notes-mcp");
        await WriteAsync(registry, Notes, "Notes",
            $"Keeps your notes in {Path.Combine(Home, "Documents", "notes")} (index in /opt/notes/index.db, C:\\Users\\me\\notes on Windows); see https://notes.example/help/tools.",
            tool);
        await WriteAsync(registry, Mail, "Mail", $"'mail' imported from {Path.Combine(Home, ".config", "Claude", "claude_desktop_config.json")}", "/usr/local/bin/mail-mcp");
        var host = await AtlasTestHost.StartAsync(dataDir: dataDir);
        host.DeleteDataDirOnDispose = true;
        return host;
    }

    private static Task WriteAsync(string registry, string id, string name, string description, string command) =>
        ManifestWriter.WriteFileAsync(new ServerManifest
        {
            Id = id,
            Name = name,
            Description = description,
            Version = "1.0.0",
            Transport = new StdioTransport { Command = command, Args = ["--data", Path.Combine(Home, "secret")] },
        }, RegistryPaths.GetManifestPath(registry, id), Ct);

    private static async Task<JsonObject> StatusAsync(AtlasTestHost host, string token)
    {
        var (socket, _) = await host.ConnectRawAsync(token);
        using (socket)
        {
            var status = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.StatusUpdate);
            Assert.NotNull(status);
            return JsonNode.Parse(JsonSerializer.Serialize(status.Data!.Value))!.AsObject();
        }
    }
}
