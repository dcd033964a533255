using System.CommandLine;
using System.Text.Json.Nodes;
using Atlas.Client;
using Atlas.Client.Credentials;
using Atlas.Client.Pairing;
using Mmcp.Cli.Application;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Spectre.Console;

namespace Mmcp.Cli.Remote;

/// <summary><c>mmcp remote add|list|remove</c>: pairs this machine's hub with an Atlas desktop (its tools join the local ones).</summary>
internal static class RemoteCommand
{
    public static Command Create(GlobalOptions global)
    {
        var url = new Argument<string>("pairing-url") { Description = "The desktop's pairing link (atlas://pair… or https://…/pair#…), from 'atlas pair' or the admin UI." };
        var name = new Option<string?>("--name") { Description = "A short name for the desktop (the server id becomes atlas.<name>; default: the desktop's name).", HelpName = "NAME" };
        var add = new Command("add", "Pair with an Atlas desktop and register it as a remote MCP server (certificate key pinned, credential stored 0600).") { url, name };
        add.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => AddAsync(context, parse.GetValue(url)!, parse.GetValue(name), token), ct));

        var list = new Command("list", "List the paired desktops (never their credentials).");
        list.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => ListAsync(context, token), ct));

        var id = new Argument<string>("id") { Description = "The desktop's server id (atlas.<name>), as 'mmcp remote list' shows it." };
        var remove = new Command("remove", "Forget a paired desktop: its credential and its registry entry. Revoke the device on the desktop too.") { id };
        remove.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, _) => Task.FromResult(Remove(context, parse.GetValue(id)!)), ct));

        return new Command("remote", "Pair this machine's hub with Atlas desktops: their tools appear next to the local ones.") { add, list, remove };
    }

    private static string RegistryDirectory(CliContext context) =>
        context.RegistryDirectories.Count > 0 ? Path.GetFullPath(context.RegistryDirectories[0]) : RegistryPaths.GetUserRegistryDirectory(MmcpEnvironment.Process);

    private static async Task<int> AddAsync(CliContext context, string url, string? name, CancellationToken cancellationToken)
    {
        if (!PairingLink.TryParse(url, out var link, out var error))
        {
            return context.Fail("Usage", $"That is not a pairing link: {error}", ExitCodes.Usage);
        }

        var serverId = RemoteDesktops.ServerId(name ?? link!.DesktopName);
        if (!ServerIds.IsValidManifestId(serverId))
        {
            return context.Fail("Usage", $"'{serverId}' is not a usable server id; pass --name with letters and digits.", ExitCodes.Usage);
        }

        var environment = MmcpEnvironment.Process;
        var credentialPath = RemoteDesktops.CredentialPath(environment, serverId);
        if (File.Exists(credentialPath))
        {
            return context.Fail("AlreadyExists", $"A desktop named '{serverId}' is already paired. Remove it first ('mmcp remote remove {serverId}') or choose another --name.", ExitCodes.Usage);
        }

        DeviceCredentials credentials;
        try
        {
            credentials = await AtlasClient.PairAsync(link!, $"mmcp on {System.Environment.MachineName}", "mmcp",
                code => context.Error.MarkupLineInterpolated($"Check code [bold]{code}[/]: approve this device on the desktop if it shows the same code."),
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (AtlasException e)
        {
            return context.Fail("PairingFailed", $"The desktop refused to pair: {e.Message}", ExitCodes.Error);
        }
        catch (HttpRequestException e) when (RemoteDesktops.IsPinMismatch(e))
        {
            return context.Fail("PinMismatch", $"The desktop at {link!.BaseUri} presented a certificate whose key does not match the pairing link's fingerprint; nothing was sent. Scan a fresh link on the desktop itself.", ExitCodes.Error);
        }
        catch (HttpRequestException e)
        {
            return context.Fail("Unreachable", $"Could not reach the desktop at {link!.BaseUri}: {e.Message}", ExitCodes.ServerUnavailable);
        }

        await new FileCredentialStore(credentialPath).SaveAsync(credentials, cancellationToken).ConfigureAwait(false);
        var manifestPath = RegistryPaths.GetManifestPath(RegistryDirectory(context), serverId);
        await ManifestWriter.WriteFileAsync(RemoteDesktops.Manifest(serverId, credentials), manifestPath, cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            var node = ToJson(serverId, credentials);
            node["manifest"] = manifestPath;
            CliContext.WriteJson(node);
        }
        else
        {
            context.Out.MarkupLineInterpolated($"Paired with the desktop '{credentials.DesktopName}' as [bold]{serverId}[/] (key {SpkiPin.ToDisplay(credentials.Fingerprint)}).");
            context.Error.MarkupLineInterpolated($"[grey]Its tools appear in 'mmcp tools' once the desktop grants this device the 'tools' permission.[/]");
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> ListAsync(CliContext context, CancellationToken cancellationToken)
    {
        var directory = RemoteDesktops.Directory(MmcpEnvironment.Process);
        var remotes = new List<(string Id, DeviceCredentials Credentials)>();
        if (System.IO.Directory.Exists(directory))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal))
            {
                if (await new FileCredentialStore(file).LoadAsync(cancellationToken).ConfigureAwait(false) is { } credentials)
                {
                    remotes.Add((Path.GetFileNameWithoutExtension(file), credentials));
                }
            }
        }

        if (context.Json)
        {
            CliContext.WriteJson(new JsonObject { ["remotes"] = new JsonArray([.. remotes.Select(r => (JsonNode)ToJson(r.Id, r.Credentials))]) });
            return ExitCodes.Ok;
        }

        if (remotes.Count == 0)
        {
            context.Out.MarkupLine("No paired desktops. Pair one with 'mmcp remote add <pairing-url>'.");
            return ExitCodes.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("ID").AddColumn("DESKTOP").AddColumn("ADDRESS").AddColumn("DEVICE");
        foreach (var (id, c) in remotes)
        {
            table.AddRow(Markup.Escape(id), Markup.Escape(c.DesktopName), Markup.Escape(c.BaseUri.ToString()), Markup.Escape(c.DeviceId));
        }

        context.Out.Write(table);
        return ExitCodes.Ok;
    }

    private static int Remove(CliContext context, string id)
    {
        var environment = MmcpEnvironment.Process;
        var credentialPath = RemoteDesktops.CredentialPath(environment, id);
        if (!ServerIds.IsValidManifestId(id) || !File.Exists(credentialPath))
        {
            return context.Fail("NotFound", $"No paired desktop has the id '{id}'. 'mmcp remote list' shows them.", ExitCodes.NotFound);
        }

        File.Delete(credentialPath);
        var manifestPath = RegistryPaths.GetManifestPath(RegistryDirectory(context), id);
        File.Delete(manifestPath);
        if (context.Json)
        {
            CliContext.WriteJson(new JsonObject { ["removed"] = id });
        }
        else
        {
            context.Out.MarkupLineInterpolated($"Removed {id}. Revoke the device on the desktop too (admin UI, Devices).");
        }

        return ExitCodes.Ok;
    }

    private static JsonObject ToJson(string id, DeviceCredentials c) => new()
    {
        ["id"] = id,
        ["desktop"] = c.DesktopName,
        ["url"] = new Uri(c.BaseUri, "mcp").ToString(),
        ["deviceId"] = c.DeviceId,
        ["pin"] = c.Fingerprint,
    };
}
