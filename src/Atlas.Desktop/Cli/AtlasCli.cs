using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Atlas.Connect;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Media;
using Atlas.Desktop.Pairing;
using Microsoft.Extensions.Options;
using Shared.Cli;

namespace Atlas.Desktop.Cli;

/// <summary>The <c>atlas</c> command line: <c>serve</c> runs the desktop hub; every other command drives the running
/// instance through its control socket.</summary>
internal static class AtlasCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        var dataDir = new Option<string?>("--data-dir") { Description = "Data directory (default $XDG_DATA_HOME/atlas or ~/.local/share/atlas)", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON for scripts", Recursive = true };
        var port = new Option<int?>("--port") { Description = "HTTPS port (default 47321; 0 picks a free one)" }.ParsedAsNumber("a port number", 0, 65535);
        var tlsMode = new Option<string?>("--tls-mode")
        {
            Description = "self-signed (quick mode, default) or local-ca (trusted mode: phones install the desktop's name-constrained CA; the web app then installs and opens offline)",
        };
        var metrics = new Option<bool>("--metrics") { Description = "Serve Prometheus metrics at http://127.0.0.1:9464/metrics (loopback only; port: Atlas:Telemetry:PrometheusPort)" };
        tlsMode.AcceptOnlyFromAmong(Identity.DesktopIdentity.SelfSignedMode, Identity.DesktopIdentity.LocalCaMode);

        var root = new RootCommand("Atlas desktop hub: pair phones by QR code, give each an isolated file space, and proxy chat and media.");
        root.Options.Add(dataDir);
        root.Options.Add(json);

        var serve = new Command("serve", "Start the desktop hub (HTTPS + WSS on loopback and private LAN interfaces, admin UI, control socket). "
            + "Extra settings: --Atlas:Section:Key=value, Atlas__Section__Key environment variables or appsettings.json.")
        {
            port,
            tlsMode,
            metrics,
        };
        serve.TreatUnmatchedTokensAsErrors = false;
        serve.SetAction((parse, cancellationToken) => Guard(() => ServeAsync(parse.GetValue(dataDir), parse.GetValue(port),
            parse.GetValue(tlsMode), parse.GetValue(metrics), [.. parse.UnmatchedTokens], cancellationToken)));
        root.Subcommands.Add(serve);

        var pair = new Command("pair", "Create a pairing ticket and print its QR code and link (JSON: url, expiresAt, fingerprint).");
        pair.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            var view = await control.PostAsync("pair", null, DesktopJsonContext.Default.PairingView, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new PairOutput(view!.Url!, view.ExpiresAt!.Value, view.Fingerprint), DesktopJsonContext.Default.PairOutput));
            }
            else
            {
                foreach (var line in StartupOutput.Pair(view!.Url!, view.ExpiresAt!.Value))
                {
                    Console.WriteLine(line);
                }
            }

            return ExitCodes.Ok;
        }));
        root.Subcommands.Add(pair);

        root.Subcommands.Add(DevicesCommand(dataDir, json));
        root.Subcommands.Add(TlsCommand(dataDir, json));

        var allow = new Option<string[]>("--allow") { Description = "A directory whose files the media tools may read (repeatable; default: Atlas:Media:AllowedRoots, else <data dir>/media/shared)", AllowMultipleArgumentsPerToken = false };
        var mediaMcp = new Command("media-mcp", "Serve the media pipeline (OCR, analysis, frames, transcription, context cards) as an MCP server on a local socket, "
            + "announced with a manifest so any hub on this computer discovers it and starts it on demand. Also: --mmcp-register, --mmcp-unregister, --mmcp-manifest.")
        {
            allow,
        };
        mediaMcp.TreatUnmatchedTokensAsErrors = false;
        mediaMcp.SetAction((parse, cancellationToken) => Guard(() => MediaMcpServerHost.RunAsync(
            DataDirectory.Resolve(parse.GetValue(dataDir)), parse.GetValue(allow) ?? [], [.. parse.UnmatchedTokens], cancellationToken)));
        root.Subcommands.Add(mediaMcp);

        var status = new Command("status", "Show the running instance: addresses, fingerprint, pairing window, devices and live connections.");
        status.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            var state = await control.GetAsync("state", DesktopJsonContext.Default.DesktopState, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(state, DesktopJsonContext.Default.DesktopState));
                return ExitCodes.Ok;
            }

            Console.WriteLine($"Atlas desktop '{state.Name}' is running.");
            Console.WriteLine($"  Data:        {state.DataDirectory}");
            Console.WriteLine($"  Listening:   {string.Join("  ", state.Urls)}");
            Console.WriteLine($"  Fingerprint: {state.DisplayFingerprint}{(state.SelfSigned ? " (self-signed)" : "")}");
            Console.WriteLine($"  Pairing:     {(state.Pairing.Closed ? "CLOSED after failed attempts (run 'atlas pair')" : state.Pairing.Url is null ? "no open ticket" : "ticket open until " + state.Pairing.ExpiresAt?.ToLocalTime().ToString("T", CultureInfo.CurrentCulture))}; {state.Pairing.RecentFailures} recent failed attempts; approval: {state.Pairing.Approval}");
            Console.WriteLine($"  Devices:     {state.Devices.Count(d => d.Status == "active")} paired, {state.Devices.Count(d => d.Status == "pending")} waiting for approval; {state.Connections} live connections");
            return ExitCodes.Ok;
        }));
        root.Subcommands.Add(status);

        var admin = new Command("admin", "Print a new one-time link to the admin UI (this computer only).");
        admin.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            var link = await control.PostAsync("admin-link", null, DesktopJsonContext.Default.AdminLink, cancellationToken).ConfigureAwait(false);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(link, DesktopJsonContext.Default.AdminLink) : link!.Url);
            return ExitCodes.Ok;
        }));
        root.Subcommands.Add(admin);

        var connect = ConnectCommand.Create(json);
        root.Subcommands.Add(connect);

        var parsed = root.Parse(args);

        // atlas connect handles Ctrl+C itself: the first press cancels the answer being generated, the second quits. For
        // serve the host handles SIGINT/SIGTERM and stops gracefully within HostOptions.ShutdownTimeout (open streams end,
        // running answers are saved); System.CommandLine's own 2 s timeout would exit 143 in the middle of that.
        var invocation = parsed.CommandResult.Command == connect || parsed.CommandResult.Command == serve
            ? new InvocationConfiguration { ProcessTerminationTimeout = null }
            : null;
        return await parsed.InvokeAsync(invocation).ConfigureAwait(false);
    }

    /// <summary>Announces <c>atlas media-mcp</c> in the Mmcp registry (unless <c>Atlas:Media:RegisterMcpServer</c> is false), so hubs on this computer can start it on demand.</summary>
    private static async Task RegisterMediaServerAsync(WebApplication app, string dataDirectory, CancellationToken cancellationToken)
    {
        if (!app.Configuration.GetValue(AtlasOptions.Section + ":Media:RegisterMcpServer", true))
        {
            return;
        }

        try
        {
            await Task.Yield();
            await MediaMcpServerHost.RegisterAsync(dataDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or OptionsValidationException)
        {
            // Not fatal: the desktop works without it; say why so the user can fix it.
            await Console.Error.WriteLineAsync($"atlas: could not register the media MCP server ({e.Message}); run 'atlas media-mcp --mmcp-register' to retry.").ConfigureAwait(false);
        }
    }

    private static Command DevicesCommand(Option<string?> dataDir, Option<bool> json)
    {
        var devices = new Command("devices", "List, approve, deny or revoke paired devices and set their permissions.");
        var id = new Argument<string>("device-id") { Description = "The device id (see 'atlas devices list')" };

        var list = new Command("list", "List devices with status, permissions, last seen and live connections.");
        list.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            var all = await control.GetAsync("devices", DesktopJsonContext.Default.ListDeviceView, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(all, DesktopJsonContext.Default.ListDeviceView));
                return ExitCodes.Ok;
            }

            if (all.Count == 0)
            {
                Console.WriteLine("No devices. Pair one with 'atlas pair'.");
                return ExitCodes.Ok;
            }

            Console.WriteLine($"{"ID",-22} {"NAME",-20} {"PLATFORM",-9} {"STATUS",-16} {"LIVE",4}  {"LAST SEEN",-20} PERMISSIONS");
            foreach (var d in all)
            {
                var state = d.Status == "pending" ? $"pending {d.CheckCode}" : d.Status;
                Console.WriteLine($"{d.Id,-22} {Cut(d.Name, 20),-20} {Cut(d.Platform, 9),-9} {state,-16} {d.Connections,4}  {d.LastSeenAt?.ToLocalTime().ToString("g", CultureInfo.CurrentCulture) ?? "never",-20} {string.Join(' ', d.Permissions)}");
            }

            return ExitCodes.Ok;
        }));

        var approve = new Command("approve", "Approve a pending device (compare the check code with the one on the phone first).") { id };
        approve.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            var device = await control.PostAsync($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}/approve", null,
                DesktopJsonContext.Default.DeviceView, cancellationToken).ConfigureAwait(false);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(device, DesktopJsonContext.Default.DeviceView) : $"Approved {device!.Id} ({device.Name}).");
            return ExitCodes.Ok;
        }));

        var deny = new Command("deny", "Deny a pending device.") { id };
        deny.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            await control.PostAsync<object>($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}/deny", null, null, cancellationToken).ConfigureAwait(false);
            Console.WriteLine(parse.GetValue(json) ? "{\"denied\":true}" : "Denied.");
            return ExitCodes.Ok;
        }));

        var deleteFiles = new Option<bool>("--delete-files") { Description = "Also delete the device's files" };
        var revoke = new Command("revoke", "Revoke a device: its credential and sessions are deleted and its live connections closed at once.") { id, deleteFiles };
        revoke.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            var query = parse.GetValue(deleteFiles) ? "?deleteFiles=true" : "";
            var result = await control.PostAsync($"devices/{Uri.EscapeDataString(parse.GetValue(id)!)}/revoke{query}", null,
                DesktopJsonContext.Default.RevokeResult, cancellationToken).ConfigureAwait(false);
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(result, DesktopJsonContext.Default.RevokeResult)
                : $"Revoked {result!.DeviceId}; closed {result.ClosedSockets} live connection(s).");
            return ExitCodes.Ok;
        }));

        var set = new Option<string?>("--set") { Description = "Comma-separated permissions: chat, files.read, files.write, media.process, tools, tools:<serverId>" };
        var quota = new Option<long?>("--quota") { Description = "Storage quota in bytes" }.ParsedAsNumber("a size in bytes", 0L);
        var permissions = new Command("permissions", "Show or change a device's permissions and quota (applies to live connections at once).") { id, set, quota };
        permissions.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            var deviceId = parse.GetValue(id)!;
            DeviceView? device;
            if (parse.GetValue(set) is null && parse.GetValue(quota) is null)
            {
                var all = await control.GetAsync("devices", DesktopJsonContext.Default.ListDeviceView, cancellationToken).ConfigureAwait(false);
                device = all.FirstOrDefault(d => d.Id == deviceId) ?? throw new CliException(ExitCodes.NotFound, $"No device '{deviceId}'.");
            }
            else
            {
                var current = (await control.GetAsync("devices", DesktopJsonContext.Default.ListDeviceView, cancellationToken).ConfigureAwait(false))
                    .FirstOrDefault(d => d.Id == deviceId) ?? throw new CliException(ExitCodes.NotFound, $"No device '{deviceId}'.");
                var wanted = parse.GetValue(set) is { } text
                    ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
                    : [.. current.Permissions];
                device = await control.PostAsync($"devices/{Uri.EscapeDataString(deviceId)}/permissions",
                    JsonContent.Create(new PermissionsChange(wanted, parse.GetValue(quota)), DesktopJsonContext.Default.PermissionsChange),
                    DesktopJsonContext.Default.DeviceView, cancellationToken).ConfigureAwait(false);
            }

            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(device, DesktopJsonContext.Default.DeviceView)
                : $"{device!.Id}: {string.Join(' ', device.Permissions)}; quota {device.QuotaBytes} bytes");
            return ExitCodes.Ok;
        }));

        devices.Subcommands.Add(list);
        devices.Subcommands.Add(approve);
        devices.Subcommands.Add(deny);
        devices.Subcommands.Add(revoke);
        devices.Subcommands.Add(permissions);
        return devices;
    }

    /// <summary><c>atlas tls</c>: show the trust setup, switch between quick and trusted mode, rotate the CA.</summary>
    private static Command TlsCommand(Option<string?> dataDir, Option<bool> json)
    {
        var tls = new Command("tls", "Show or change how phones trust this desktop: quick mode (self-signed) or trusted mode (a local CA phones install).");
        tls.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            PrintTls(await control.GetAsync("tls", DesktopJsonContext.Default.TlsView, cancellationToken).ConfigureAwait(false), parse.GetValue(json));
            return ExitCodes.Ok;
        }));

        var value = new Argument<string>("mode") { Description = "self-signed (quick mode) or local-ca (trusted mode)" };
        value.AcceptOnlyFromAmong(Identity.DesktopIdentity.SelfSignedMode, Identity.DesktopIdentity.LocalCaMode);
        var mode = new Command("mode", "Switch modes now and remember the choice (--tls-mode / Atlas:Tls:Mode still win at start). "
            + "The pin changes: every device is revoked and must pair again.") { value };
        mode.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            var view = await control.PostAsync("tls", JsonContent.Create(new Identity.TlsChange(parse.GetValue(value)), DesktopJsonContext.Default.TlsChange),
                DesktopJsonContext.Default.TlsView, cancellationToken).ConfigureAwait(false);
            PrintTls(view!, parse.GetValue(json));
            return ExitCodes.Ok;
        }));

        var rotate = new Command("rotate", "Trusted mode: replace the CA (new key; the old one is deleted). Every device is revoked and must "
            + "install the new CA and pair again.");
        rotate.SetAction((parse, cancellationToken) => Guard(async () =>
        {
            using var control = Control(parse.GetValue(dataDir));
            PrintTls((await control.PostAsync("tls/rotate", null, DesktopJsonContext.Default.TlsView, cancellationToken).ConfigureAwait(false))!,
                parse.GetValue(json));
            return ExitCodes.Ok;
        }));
        tls.Subcommands.Add(mode);
        tls.Subcommands.Add(rotate);
        return tls;
    }

    private static void PrintTls(Identity.TlsView view, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(view, DesktopJsonContext.Default.TlsView));
            return;
        }

        Console.WriteLine(view.Mode switch
        {
            Identity.DesktopIdentity.LocalCaMode => "Trusted mode: this desktop is a certificate authority for its own names and addresses only.",
            Identity.DesktopIdentity.SelfSignedMode => "Quick mode: a self-signed certificate (phones trust it on first use; the web app cannot open offline).",
            _ => "A certificate from Atlas:Certificate:Path.",
        });
        Console.WriteLine($"  Pin:         {view.DisplayFingerprint}{(view.Mode == Identity.DesktopIdentity.LocalCaMode ? " (the CA's key)" : "")}");
        Console.WriteLine($"  SHA-256:     {view.CertificateSha256}");
        if (view.AuthoritySubject is not null)
        {
            Console.WriteLine($"  CA:          {view.AuthoritySubject}, valid until {view.AuthorityNotAfter?.ToLocalTime().ToString("d", CultureInfo.CurrentCulture)}");
            Console.WriteLine($"  Permits:     {string.Join(", ", [.. view.PermittedNames ?? [], .. view.PermittedAddresses ?? []])}");
            Console.WriteLine("  Phones:      open the pairing page, or https://<this desktop>/ca.crt (Android) and /ca.mobileconfig (iOS)");
        }

        Console.WriteLine($"  Serving certificate valid until {view.CertificateNotAfter.ToLocalTime().ToString("g", CultureInfo.CurrentCulture)}");
        if (view.RevokedDevices > 0)
        {
            Console.WriteLine($"  Revoked {view.RevokedDevices} device(s): pair them again ('atlas pair').");
        }
    }

    private static async Task<int> ServeAsync(string? dataDir, int? port, string? tlsMode, bool metrics, string[] extra, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (metrics)
        {
            overrides["Atlas:Telemetry:Prometheus"] = "true";
        }

        if (tlsMode is not null)
        {
            overrides["Atlas:Tls:Mode"] = tlsMode;
        }

        if (dataDir is not null)
        {
            overrides["Atlas:DataDir"] = dataDir;
        }

        if (port is not null)
        {
            overrides["Atlas:Port"] = port.Value.ToString(CultureInfo.InvariantCulture);
        }

        WebApplication app;
        try
        {
            app = AtlasApp.Build(extra, overrides);
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync("atlas: the configuration has mistakes:\n  " + string.Join("\n  ", e.Failures)).ConfigureAwait(false);
            return ExitCodes.Configuration;
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync("atlas: " + e.Message).ConfigureAwait(false);
            return ExitCodes.Configuration;
        }

        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"atlas: could not listen ({e.Message}). Is the port in use? Pick another with --port.").ConfigureAwait(false);
                return ExitCodes.Configuration;
            }

            var desktop = app.Services.GetRequiredService<DesktopInfo>();
            var ticket = await app.Services.GetRequiredService<PairingService>().CreateTicketAsync(cancellationToken).ConfigureAwait(false);
            var adminLink = app.Services.GetRequiredService<AdminSessions>().CreateLink();
            var startup = StartupOutput.Serve(desktop, adminLink, ticket.Url, ticket.ExpiresAt, qr: false);
            if (!Console.IsOutputRedirected && Console.WindowHeight >= StartupOutput.TerminalRows(
                StartupOutput.Serve(desktop, adminLink, ticket.Url, ticket.ExpiresAt, qr: true)) + 1)
            {
                // A terminal with room for the QR code next to the rest: show it right away.
                startup = StartupOutput.Serve(desktop, adminLink, ticket.Url, ticket.ExpiresAt, qr: true);
            }

            foreach (var line in startup)
            {
                Console.WriteLine(line);
            }

            var styled = !Console.IsOutputRedirected;
            app.Services.GetRequiredService<ApprovalAlerts>().Waiting += device =>
                Console.WriteLine(StartupOutput.ApprovalNeeded(device, desktop.AdminBaseUri, styled));
            var registration = RegisterMediaServerAsync(app, desktop.DataDirectory, cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            await registration.ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    private static ControlClient Control(string? dataDir) =>
        new(new DataDirectory(DataDirectory.Resolve(dataDir ?? Environment.GetEnvironmentVariable("Atlas__DataDir"))).ControlSocketPath);

    private static async Task<int> Guard(Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync("atlas: " + e.Message).ConfigureAwait(false);
            return e.ExitCode;
        }
    }

    private static string Cut(string value, int width) => value.Length <= width ? value : value[..(width - 1)] + "…";
}
