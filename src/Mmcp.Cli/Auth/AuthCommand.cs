using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Mmcp.Cli.Application;
using Mmcp.Client;
using Mmcp.Client.Authorization;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Shared.Cli;
using Spectre.Console;

namespace Mmcp.Cli.Auth;

/// <summary>
/// <c>mmcp auth login|status|logout</c>: the user's OAuth sign-ins to remote servers. Only <c>login</c> opens a browser;
/// the hub's background connections use the stored sign-in and report <c>SignInRequired</c> when it is missing.
/// </summary>
internal static class AuthCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Argument<string>("server") { Description = "The server id (an http server)." };
        var scope = new Option<string[]>("--scope") { Description = "A scope to ask for beyond what the sign-in grants (repeatable; for a call that needs more).", HelpName = "SCOPE" };
        var noBrowser = new Option<bool>("--no-browser") { Description = "Print the authorization URL instead of opening a browser." };
        var wait = new Option<double>("--timeout-seconds") { Description = "How long to wait for the browser to come back.", DefaultValueFactory = _ => 300, HelpName = "SECONDS" }.ParsedAsNumber("a number of seconds", 1d);
        var login = new Command("login", "Sign in to a remote server in your browser (OAuth 2.1 with PKCE, loopback redirect on 127.0.0.1) and store the tokens for this user (mode 0600). Exit 9 when the sign-in is refused, 5 when it times out.") { server, scope, noBrowser, wait };
        login.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => LoginAsync(context, parse.GetValue(server)!, parse.GetValue(scope) ?? [], parse.GetValue(noBrowser), parse.GetValue(wait), token), ct));

        var statusServer = new Argument<string?>("server") { Description = "Only this server.", Arity = ArgumentArity.ZeroOrOne };
        var status = new Command("status", "Show the sign-ins (server, expiry, scopes; never a token). Exit 9 when the server named has none.") { statusServer };
        status.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => StatusAsync(context, parse.GetValue(statusServer), token), ct));

        var logoutServer = new Argument<string>("server") { Description = "The server id." };
        var logout = new Command("logout", "Sign out of a remote server: revoke the grant at its authorization server (when it offers revocation) and delete the stored tokens. Exit 3 when there was no sign-in.") { logoutServer };
        logout.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => LogoutAsync(context, parse.GetValue(logoutServer)!, token), ct));

        return new Command("auth", "Sign in to remote MCP servers that use OAuth (the hub, the gateway and Atlas then use the stored sign-in; they never open a browser).") { login, status, logout };
    }

    private static OAuthTokenStore Store => OAuthTokenStore.ForEnvironment(MmcpEnvironment.Process);

    private static async Task<int> LoginAsync(CliContext context, string serverId, string[] scopes, bool noBrowser, double seconds, CancellationToken cancellationToken)
    {
        if (seconds is <= 0 or > 3600)
        {
            return context.Fail("Usage", "--timeout-seconds must be above 0 and at most 3600.", ExitCodes.Usage);
        }

        var server = await FindAsync(context, serverId, cancellationToken).ConfigureAwait(false);
        if (server is null)
        {
            return context.Fail(nameof(HubErrorCode.UnknownServer), $"No server has the id '{serverId}'. 'mmcp servers' lists them.", ExitCodes.NotFound);
        }

        var signIn = new RemoteSignIn(Store, MmcpEnvironment.Process);
        var result = await signIn.LoginAsync(
            server,
            new RemoteSignInOptions
            {
                Scopes = scopes,
                Timeout = TimeSpan.FromSeconds(seconds),
                Notice = message => context.Error.MarkupLineInterpolated($"[yellow]{message}[/]"),
                OpenAuthorizationPage = (uri, _) =>
                {
                    context.Error.MarkupLineInterpolated($"Open this page to sign in to '{serverId}':");
                    context.Error.WriteLine(uri.AbsoluteUri, Style.Plain);
                    if (!noBrowser && !TryOpenBrowser(uri))
                    {
                        context.Error.MarkupLine("[grey](No browser could be started: open the page yourself.)[/]");
                    }

                    return Task.CompletedTask;
                },
            },
            cancellationToken).ConfigureAwait(false);

        if (result is null)
        {
            if (context.Json)
            {
                CliContext.WriteJson(new JsonObject { ["server"] = serverId, ["signedIn"] = false, ["reason"] = "the server did not ask for a sign-in" });
            }
            else
            {
                context.Out.MarkupLineInterpolated($"Server '{serverId}' did not ask for a sign-in; nothing was stored.");
            }

            return ExitCodes.Ok;
        }

        if (context.Json)
        {
            CliContext.WriteJson(ToJson(result));
        }
        else
        {
            context.Out.MarkupLineInterpolated($"Signed in to '{serverId}' ({string.Join(" ", result.Scopes)}).");
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> StatusAsync(CliContext context, string? serverId, CancellationToken cancellationToken)
    {
        await context.Hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        var servers = context.Hub.Registry.Current.Servers.Where(s => s.Manifest.Transport is HttpTransport && (serverId is null || s.Id == serverId)).ToList();
        if (serverId is not null && servers.Count == 0)
        {
            return context.Fail(nameof(HubErrorCode.UnknownServer), $"No http server has the id '{serverId}'. 'mmcp servers' lists them.", ExitCodes.NotFound);
        }

        var now = TimeProvider.System.GetUtcNow();
        var rows = servers.Select(s => (Server: s, SignIn: Store.Find(s.Id), Status: context.Hub.GetServerStatus(s.Id))).ToList();
        if (context.Json)
        {
            CliContext.WriteJson(new JsonObject
            {
                ["servers"] = new JsonArray([.. rows.Select(r =>
                {
                    var node = r.SignIn is { } i ? ToJson(i) : new JsonObject { ["server"] = r.Server.Id, ["signedIn"] = false };
                    node["state"] = State(r.SignIn, now);
                    return (JsonNode)node;
                })]),
            });
        }
        else if (rows.Count == 0)
        {
            context.Out.MarkupLine("No remote (http) servers.");
        }
        else
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("SERVER").AddColumn("STATE").AddColumn("EXPIRES").AddColumn("SCOPES");
            foreach (var (server, info, _) in rows)
            {
                table.AddRow(
                    Markup.Escape(server.Id),
                    Markup.Escape(State(info, now)),
                    info?.ExpiresAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-",
                    Markup.Escape(info is null ? "-" : string.Join(" ", info.Scopes)));
            }

            context.Out.Write(table);
        }

        return serverId is not null && rows[0].SignIn is null ? ExitCodes.SignInRequired : ExitCodes.Ok;
    }

    private static async Task<int> LogoutAsync(CliContext context, string serverId, CancellationToken cancellationToken)
    {
        var result = await new RemoteSignIn(Store, MmcpEnvironment.Process).LogoutAsync(serverId, cancellationToken).ConfigureAwait(false);
        if (!result.Deleted)
        {
            return context.Fail("NotFound", $"There is no sign-in to '{serverId}'. 'mmcp auth status' lists them.", ExitCodes.NotFound);
        }

        if (context.Json)
        {
            CliContext.WriteJson(new JsonObject { ["server"] = serverId, ["signedOut"] = true, ["revoked"] = result.Revoked, ["revocationProblem"] = result.RevocationProblem });
        }
        else
        {
            context.Out.MarkupLineInterpolated($"Signed out of '{serverId}'{(result.Revoked ? " (the grant was revoked at the authorization server)" : string.Empty)}.");
            if (result.RevocationProblem is { } problem)
            {
                context.Warn($"the grant was not revoked: {problem}; the stored tokens were deleted.");
            }
        }

        return ExitCodes.Ok;
    }

    private static async Task<DiscoveredServer?> FindAsync(CliContext context, string serverId, CancellationToken cancellationToken)
    {
        await context.Hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        return context.Hub.Registry.Current.Find(serverId);
    }

    private static string State(OAuthSignIn? signIn, DateTimeOffset now) => signIn switch
    {
        null => "needs sign-in",
        { ExpiresAt: { } expires } when expires <= now && !signIn.CanRefresh => "expired: needs sign-in",
        { ExpiresAt: { } expires } when expires <= now => "signed in (refreshes on next use)",
        _ => "signed in",
    };

    private static JsonObject ToJson(OAuthSignIn s) => new()
    {
        ["server"] = s.ServerId,
        ["signedIn"] = true,
        ["url"] = s.Url.AbsoluteUri,
        ["authorizationServer"] = s.AuthorizationServer?.AbsoluteUri,
        ["obtainedAt"] = s.ObtainedAt.ToString("O", CultureInfo.InvariantCulture),
        ["expiresAt"] = s.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture),
        ["scopes"] = new JsonArray([.. s.Scopes.Select(x => (JsonNode)JsonValue.Create(x))]),
        ["canRefresh"] = s.CanRefresh,
    };

    /// <summary>Opens the page in the user's browser: <c>$BROWSER</c>, else <c>xdg-open</c> (never through a shell).</summary>
    private static bool TryOpenBrowser(Uri uri)
    {
        var browser = Environment.GetEnvironmentVariable("BROWSER");
        foreach (var program in new[] { browser, "xdg-open" })
        {
            if (string.IsNullOrWhiteSpace(program))
            {
                continue;
            }

            try
            {
                using var process = Process.Start(new ProcessStartInfo(program, [uri.AbsoluteUri]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true });
                if (process is not null)
                {
                    return true;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }

        return false;
    }
}
