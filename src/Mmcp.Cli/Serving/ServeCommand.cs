using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mmcp.Cli.Application;
using Mmcp.Core.Registry;
using Mmcp.Gateway;
using Shared.Cli;
using Shared.Storage;
using Shared.Telemetry;

namespace Mmcp.Cli.Serving;

/// <summary><c>mmcp serve</c>: the gateway over HTTP (MCP, REST, OpenAPI) on loopback unless told otherwise.</summary>
internal static class ServeCommand
{
    public static Command Create(GlobalOptions global)
    {
        var port = new Option<int>("--port", "-p") { Description = $"The port (0 picks a free one). Default {MmcpGatewayOptions.DefaultPort}.", DefaultValueFactory = _ => MmcpGatewayOptions.DefaultPort };
        var host = new Option<string>("--host") { Description = "The address to listen on. Default 127.0.0.1 (loopback only); any other address requires bearer tokens for requests arriving on it.", DefaultValueFactory = _ => "127.0.0.1" };
        var toolMode = new Option<GatewayToolMode>("--tool-mode") { Description = "all: every tool; search: only search_tools and call_tool (for clients that cannot hold many tools).", DefaultValueFactory = _ => GatewayToolMode.All }.ParsedAsChoice();
        var requireToken = new Option<bool>("--require-token") { Description = "Require a bearer token on loopback too." };
        var allowOrigin = new Option<string[]>("--allow-origin") { Description = "A browser origin (scheme://host[:port]) allowed to call the gateway (repeatable).", HelpName = "ORIGIN" };
        var allowHost = new Option<string[]>("--allow-host") { Description = "A host name accepted in the Host header, besides loopback names and the listening address (repeatable).", HelpName = "HOST" };
        var lexical = new Option<bool>("--lexical-search") { Description = "With --tool-mode search: rank search_tools with BM25 alone, without the local embedding model (less memory, no model load)." };
        var oauthIssuer = new Option<string?>("--oauth-issuer") { Description = "Accept OAuth access tokens (JWT) from this authorization server next to mmcp tokens, and publish protected resource metadata. https, or http on loopback.", HelpName = "URL" };
        var oauthAudience = new Option<string?>("--oauth-audience") { Description = "With --oauth-issuer: the gateway's resource URL, the audience tokens must carry. Default: the origin clients reach (http://127.0.0.1:PORT).", HelpName = "URL" };
        var metrics = new Option<bool>("--metrics") { Description = "Serve Prometheus metrics at GET /metrics, to loopback connections only (OpenTelemetry; see docs/observability.md)." };
        var shared = new Option<bool>("--shared-upstream") { Description = "Let /servers/{id}/mcp sessions share the hub's connection instead of opening one each (no process per session for stdio servers; no per-client sampling, logging or subscriptions)." };
        port.ParsedAsNumber("a port number", 0, 65535,
            value => value == 11434 ? "--port 11434 is Ollama's port; choose another (the default is 7379, 0 picks a free one)." : null);
        var stores = new StoreOptions(tokens: true);
        var command = new Command("serve", "Serve the hub over HTTP: aggregated MCP at /mcp, one server at /servers/{id}/mcp, REST at /mcp/tools/…, OpenAPI at /openapi.json, /health. Prints the URL; Ctrl+C stops.")
        {
            port, host, toolMode, lexical, requireToken, allowOrigin, allowHost, shared, oauthIssuer, oauthAudience, metrics,
        };
        stores.AddTo(command);
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, new ServeSettings(
            parse.GetValue(port),
            parse.GetValue(host)!,
            parse.GetValue(toolMode),
            parse.GetValue(requireToken),
            parse.GetValue(allowOrigin) ?? [],
            parse.GetValue(allowHost) ?? [],
            parse.GetValue(shared),
            parse.GetValue(lexical),
            parse.GetValue(oauthIssuer),
            parse.GetValue(oauthAudience),
            parse.GetValue(metrics),
            stores.Read(parse)), token), ct));
        return command;
    }

    /// <summary>Why the address and port cannot be listened on right now, or <see langword="null"/> when they can.</summary>
    private static string? PortTaken(IPAddress address, int port)
    {
        using var probe = new System.Net.Sockets.Socket(address.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
            return null;
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode is System.Net.Sockets.SocketError.AddressAlreadyInUse or System.Net.Sockets.SocketError.AccessDenied)
        {
            return ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse
                ? "another process is listening on it."
                : "this user may not listen on it (ports below 1024 need privileges).";
        }
    }

    private static async Task<int> RunAsync(CliContext context, ServeSettings settings, CancellationToken cancellationToken)
    {
        InlineSocketCompletions.Enable();
        if (!IPAddress.TryParse(settings.Host, out var address) && settings.Host != "localhost")
        {
            return context.Fail("Usage", $"--host must be an IP address (or localhost), not '{settings.Host}'.", ExitCodes.Usage);
        }

        if (settings.Metrics && address is not null && !IPAddress.IsLoopback(address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any))
        {
            return context.Fail("Usage", $"--metrics serves /metrics to loopback connections only, and --host {settings.Host} accepts none; drop --metrics or listen on 127.0.0.1 (or 0.0.0.0).", ExitCodes.Usage);
        }

        // A port another process holds is the common failure: said in one line before the host starts (which would log
        // its own stack trace first). The host's bind stays the judge; this only catches the usual case early.
        if (settings.Port != 0 && PortTaken(address ?? IPAddress.Loopback, settings.Port) is { } taken)
        {
            return context.Fail("Error", $"Cannot listen on {settings.Host}:{settings.Port}: {taken} Choose another --port (0 picks a free one).", ExitCodes.Error);
        }

        var builder = WebApplication.CreateSlimBuilder();
        HostLogging.Configure(builder.Logging, context.Verbose);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            if (address is null)
            {
                k.ListenLocalhost(settings.Port);
            }
            else
            {
                k.Listen(address, settings.Port);
            }
        });
        OpenTelemetrySetup.AddOpenTelemetry(builder.Services, builder.Configuration, "mmcp-gateway", settings.Metrics, aspNetCore: true);
        // A request runs on the thread that read it instead of two more hops through the thread pool (Kestrel's I/O
        // queue, then the application's). With the runtime's inline completions (InlineSocketCompletions) that is the
        // socket event thread, which only the direct lane keeps; without them, a pool thread.
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        builder.Services.AddMmcpHub(o => context.ConfigureHub(o, "mmcp-gateway", watchRegistry: true));
        builder.Services.AddMmcpGateway(o =>
        {
            o.ToolMode = settings.ToolMode;
            o.SearchEmbeddings = !settings.LexicalSearch;
            o.RequireToken = settings.RequireToken ? true : null;
            o.DedicatedUpstreamSessions = !settings.SharedUpstream;
            o.OAuthIssuer = settings.OAuthIssuer;
            o.OAuthAudience = settings.OAuthAudience;
            settings.Stores.Apply(o);
            foreach (var origin in settings.AllowOrigins)
            {
                o.AllowedOrigins.Add(origin);
            }

            foreach (var h in settings.AllowHosts)
            {
                o.AllowedHosts.Add(h);
            }
        });

        await using var app = builder.Build();
        try
        {
            if (settings.Metrics)
            {
                OpenTelemetrySetup.UsePrometheusOnLoopback(app);
            }

            if (InlineSocketCompletions.Enabled)
            {
                app.Use(InlineSocketCompletions.LeaveIoThread);
            }

            // Mapping resolves the validated options, so a bad --allow-origin or --allow-host fails here.
            app.MapMmcpGateway();
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            return context.Fail("Error", $"Cannot listen on {settings.Host}:{settings.Port}: {ex.Message} Choose another --port (0 picks a free one).", ExitCodes.Error);
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            return context.Fail("Usage", ex.Message, ExitCodes.Usage);
        }

        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
        var runtimeFile = WriteRuntimeFile(url, app.Services.GetRequiredService<GatewayRuntime>());
        try
        {
            var loopback = address is null || IPAddress.IsLoopback(address);
            if (context.Json)
            {
                CliContext.WriteJson(new JsonObject { ["url"] = url, ["mcp"] = url + "/mcp", ["openapi"] = url + "/openapi.json", ["tokensRequired"] = settings.RequireToken || !(address?.Equals(IPAddress.Loopback) ?? true), ["oauthIssuer"] = settings.OAuthIssuer });
            }
            else
            {
                await Console.Out.WriteLineAsync($"Mmcp gateway listening on {url}").ConfigureAwait(false);
                await Console.Out.WriteLineAsync($"  MCP (every server):  {url}/mcp").ConfigureAwait(false);
                await Console.Out.WriteLineAsync($"  MCP (one server):    {url}/servers/<id>/mcp").ConfigureAwait(false);
                await Console.Out.WriteLineAsync($"  REST and OpenAPI:    {url}/mcp/tools/list, {url}/openapi.json").ConfigureAwait(false);
                if (!loopback || settings.RequireToken)
                {
                    await Console.Out.WriteLineAsync("  Requests need 'Authorization: Bearer <token>' (create one with: mmcp token create --scope tools:list --scope tools:call).").ConfigureAwait(false);
                }

                if (settings.OAuthIssuer is not null)
                {
                    await Console.Out.WriteLineAsync($"  OAuth access tokens: from {settings.OAuthIssuer}; metadata at {url}/.well-known/oauth-protected-resource").ConfigureAwait(false);
                }
            }

            await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            await ReportDiscoveryAsync(app.Services.GetRequiredService<Mmcp.Client.MmcpHub>(), cancellationToken).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        finally
        {
            DeleteRuntimeFileIfOurs(runtimeFile);
        }
    }

    /// <summary>Where <c>mmcp inspect</c> finds the running gateway: its URL and inspect secret, readable by the user only.</summary>
    internal static string RuntimeFilePath() => Path.Combine(RegistryPaths.GetRuntimeDirectory(MmcpEnvironment.Process), "gateway.json");

    /// <summary>Says on standard error which servers the gateway serves and which definitions it skipped (and why), so a
    /// manifest that does not validate is not a silent absence.</summary>
    private static async Task ReportDiscoveryAsync(Mmcp.Client.MmcpHub hub, CancellationToken cancellationToken)
    {
        try
        {
            var discovery = await hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
            var ids = discovery.Servers.Select(s => s.Id).ToList();
            await Console.Error.WriteLineAsync(ids.Count == 0
                ? "No servers found yet (mmcp servers shows where the hub looks); the gateway picks up new manifests as they appear."
                : $"Serving {ids.Count} server{(ids.Count == 1 ? string.Empty : "s")}: {string.Join(", ", ids)}").ConfigureAwait(false);
            foreach (var diagnostic in discovery.Diagnostics)
            {
                await Console.Error.WriteLineAsync($"  skipped: {diagnostic}").ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Mmcp.Client.HubException or InvalidOperationException)
        {
            // Standard error in --json mode too: standard output stays the JSON document. The gateway keeps serving.
            await Console.Error.WriteLineAsync($"warning: discovery failed: {ex.Message}").ConfigureAwait(false);
        }
    }

    private static string? WriteRuntimeFile(string url, GatewayRuntime runtime)
    {
        try
        {
            var path = RuntimeFilePath();
            var temp = path + $".{Environment.ProcessId}.tmp";
            var json = new JsonObject
            {
                ["url"] = url,
                ["pid"] = Environment.ProcessId,
                ["inspectToken"] = runtime.InspectToken,
            }.ToJsonString();
            File.WriteAllText(temp, json);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            File.Move(temp, path, overwrite: true);
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warning: could not write the gateway's runtime file ({ex.Message}); 'mmcp inspect' will need --url and a token.");
            return null;
        }
    }

    private static void DeleteRuntimeFileIfOurs(string? path)
    {
        try
        {
            if (path is not null && File.Exists(path) && File.ReadAllText(path).Contains($"\"pid\":{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)},", StringComparison.Ordinal))
            {
                FileCleanup.TryDelete(path);
            }
        }
        catch (IOException)
        {
        }
    }

    private sealed record ServeSettings(int Port, string Host, GatewayToolMode ToolMode, bool RequireToken, string[] AllowOrigins, string[] AllowHosts, bool SharedUpstream, bool LexicalSearch, string? OAuthIssuer, string? OAuthAudience, bool Metrics, StoreSettings Stores);
}
