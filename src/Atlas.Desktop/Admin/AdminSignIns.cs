using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Hosting;
using Mmcp.Client;
using Mmcp.Client.Authorization;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Atlas.Desktop.Admin;

/// <summary>
/// The admin UI's "Sign in" for remote MCP servers that use OAuth (what <c>mmcp auth login</c> does, started from the
/// page): <see cref="RemoteSignIn"/> runs on the desktop with its loopback redirect on 127.0.0.1, and instead of opening
/// a browser it hands the authorization URL to the page, which opens it in a new tab. One sign-in at a time per server
/// (a second click while one is pending gets the same URL); its outcome is kept for the page and announced on the
/// admin event stream (<see cref="AdminEvents.Servers"/>); a successful one reconnects the server so its tools appear
/// at once. The tokens go to the same per-user store as <c>mmcp auth login</c>; nothing here ever holds or shows one.
/// </summary>
internal sealed partial class AdminSignIns : IDisposable
{
    /// <summary>The authorization server refused (the user pressed "Deny", or an <c>error</c> came back).</summary>
    public const string Refused = "sign_in_refused";

    /// <summary>The browser came back with a <c>state</c> that is not the one sent.</summary>
    public const string StateMismatch = "sign_in_state_mismatch";

    /// <summary>Nobody finished in the browser within the time allowed.</summary>
    public const string TimedOut = "sign_in_timeout";

    /// <summary>Anything else (metadata, registration, token exchange); the message says what.</summary>
    public const string Failed = "sign_in_failed";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Attempt> _attempts = new(StringComparer.Ordinal);
    private readonly MmcpHub _hub;
    private readonly AdminEvents _events;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();

    public AdminSignIns(MmcpHub hub, AdminEvents events, AtlasTime time, ILoggerFactory loggerFactory)
    {
        _hub = hub;
        _events = events;
        _time = time.Provider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<AdminSignIns>();
    }

    /// <summary>Gets how long the user has to finish in the browser (as <c>mmcp auth login</c>: five minutes).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The per-user token store the hub's connections read (the hub's environment: <c>$XDG_CONFIG_HOME/mmcp/oauth</c>).</summary>
    public OAuthTokenStore Store => OAuthTokenStore.ForEnvironment(_hub.Options.Registry.Environment);

    /// <summary>Whether a server signs in with OAuth: an http server whose definition sets no <c>Authorization</c> header itself.</summary>
    public static bool Applies(DiscoveredServer server) =>
        server.Manifest.Transport is HttpTransport http && !http.Headers.ContainsKey("Authorization");

    /// <summary>What the servers view shows about a server's sign-in (never a token), or <see langword="null"/> for a
    /// server that does not sign in with OAuth.</summary>
    public SignInView? Describe(DiscoveredServer server)
    {
        if (!Applies(server))
        {
            return null;
        }

        var stored = Store.Find(server.Id);
        var now = _time.GetUtcNow();
        var state = stored switch
        {
            null => "needs sign-in",
            { ExpiresAt: { } expires } when expires <= now && !stored.CanRefresh => "expired: needs sign-in",
            { ExpiresAt: { } expires } when expires <= now => "signed in (refreshes on next use)",
            _ => "signed in",
        };
        return new SignInView(stored is not null, state, stored?.AuthorizationServer?.AbsoluteUri, stored?.ObtainedAt, stored?.ExpiresAt,
            stored?.Scopes ?? [], stored?.CanRefresh ?? false, Find(server.Id));
    }

    /// <summary>The current or last sign-in of a server started here, or <see langword="null"/>.</summary>
    public SignInAttemptView? Find(string serverId)
    {
        lock (_lock)
        {
            return _attempts.TryGetValue(serverId, out var attempt) ? attempt.View() : null;
        }
    }

    /// <summary>Starts a sign-in (or joins the pending one) and returns once its authorization URL is known, or it ended first.</summary>
    public async Task<SignInAttemptView> StartAsync(DiscoveredServer server, CancellationToken cancellationToken)
    {
        if (!Applies(server))
        {
            throw new AtlasException(ErrorCodes.BadRequest, server.Manifest.Transport is HttpTransport
                ? $"Server '{server.Id}' sends its own Authorization header; it does not sign in with OAuth."
                : $"Server '{server.Id}' is not a remote (http) server; only those sign in.");
        }

        Attempt attempt;
        lock (_lock)
        {
            if (!_attempts.TryGetValue(server.Id, out attempt!) || attempt.State != "pending")
            {
                attempt = new Attempt(server.Id, _time.GetUtcNow(), CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
                _attempts[server.Id] = attempt;
                // Detached from the request that started it (its cancellation, its trace): it outlives the request.
                using (ExecutionContext.SuppressFlow())
                {
                    attempt.Run = Task.Run(() => RunAsync(attempt, server), CancellationToken.None);
                }
            }
        }

        await Task.WhenAny(attempt.Url.Task, attempt.Run).WaitAsync(cancellationToken).ConfigureAwait(false);
        return attempt.View();
    }

    /// <summary>Cancels the pending sign-in of a server and returns how it ended.</summary>
    public async Task<SignInAttemptView> CancelAsync(string serverId, CancellationToken cancellationToken)
    {
        Attempt? attempt;
        lock (_lock)
        {
            _attempts.TryGetValue(serverId, out attempt);
        }

        if (attempt is null)
        {
            throw new AtlasException(ErrorCodes.NotFound, $"No sign-in to '{serverId}' was started here.");
        }

        await attempt.Cancellation.CancelAsync().ConfigureAwait(false);
        await attempt.Run.WaitAsync(cancellationToken).ConfigureAwait(false);
        return attempt.View();
    }

    /// <summary>Signs out: ends a pending sign-in, revokes the grant at the authorization server (when it offers
    /// revocation), deletes the stored tokens, and closes the connection that used them.</summary>
    public async Task<SignOutView> SignOutAsync(DiscoveredServer server, CancellationToken cancellationToken)
    {
        Attempt? pending;
        lock (_lock)
        {
            pending = _attempts.GetValueOrDefault(server.Id) is { State: "pending" } p ? p : null;
        }

        if (pending is not null)
        {
            await pending.Cancellation.CancelAsync().ConfigureAwait(false);
            await pending.Run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        var result = await new RemoteSignIn(Store, _hub.Options.Registry.Environment, _loggerFactory, _time).LogoutAsync(server.Id, cancellationToken).ConfigureAwait(false);
        if (!result.Deleted)
        {
            throw new AtlasException(ErrorCodes.NotFound, $"There is no sign-in to '{server.Id}'.");
        }

        SignedOut(_logger, server.Id, result.Revoked);
        await _hub.ReconnectAsync(server.Id, cancellationToken).ConfigureAwait(false);
        _events.Publish(AdminEvents.Servers);
        return new SignOutView(server.Id, true, result.Revoked, result.RevocationProblem);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private async Task RunAsync(Attempt attempt, DiscoveredServer server)
    {
        try
        {
            var signIn = new RemoteSignIn(Store, _hub.Options.Registry.Environment, _loggerFactory, _time);
            var options = new RemoteSignInOptions
            {
                Timeout = Timeout,
                OpenAuthorizationPage = (uri, _) =>
                {
                    attempt.Opened(uri);
                    _events.Publish(AdminEvents.Servers);
                    return Task.CompletedTask;
                },
            };
            var stored = await signIn.LoginAsync(server, options, attempt.Cancellation.Token).ConfigureAwait(false);
            attempt.Finish(_time.GetUtcNow(), stored is null ? "not-needed" : "succeeded", null);
            SignedIn(_logger, server.Id, stored is not null);

            // The connection (if any) holds the old authorization: the next use connects with the new sign-in.
            await _hub.ReconnectAsync(server.Id, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (attempt.Cancellation.IsCancellationRequested)
        {
            attempt.Finish(_time.GetUtcNow(), "cancelled", new SignInErrorView(ErrorCodes.Cancelled, $"The sign-in to '{server.Id}' was cancelled."));
        }
        catch (HubException e)
        {
            var code = Classify(e);
            attempt.Finish(_time.GetUtcNow(), "failed", new SignInErrorView(code, e.Message));
            SignInFailed(_logger, server.Id, code);
        }
        finally
        {
            attempt.Url.TrySetResult(null);
            attempt.Cancellation.Dispose();
            _events.Publish(AdminEvents.Servers);
        }
    }

    /// <summary>A stable code for what <see cref="RemoteSignIn"/> reports (its messages are for people).</summary>
    private static string Classify(HubException e) => e.Code switch
    {
        HubErrorCode.HandshakeTimeout => TimedOut,
        _ when e.Reason == HubErrorReasons.SignInStateMismatch => StateMismatch,
        _ when e.Reason == HubErrorReasons.SignInRefused => Refused,
        _ => Failed,
    };

    [LoggerMessage(1801, LogLevel.Information, "Signed in to MCP server {ServerId} from the admin UI (tokens stored: {Stored})")]
    private static partial void SignedIn(ILogger logger, string serverId, bool stored);

    [LoggerMessage(1802, LogLevel.Warning, "The admin UI's sign-in to MCP server {ServerId} failed: {Code}")]
    private static partial void SignInFailed(ILogger logger, string serverId, string code);

    [LoggerMessage(1803, LogLevel.Information, "Signed out of MCP server {ServerId} from the admin UI (revoked at the authorization server: {Revoked})")]
    private static partial void SignedOut(ILogger logger, string serverId, bool revoked);

    private sealed class Attempt(string serverId, DateTimeOffset startedAt, CancellationTokenSource cancellation)
    {
        private readonly Lock _lock = new();
        private DateTimeOffset? _finishedAt;
        private SignInErrorView? _error;
        private Uri? _url;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        public TaskCompletionSource<Uri?> Url { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Run { get; set; } = Task.CompletedTask;

        public string State { get; private set; } = "pending";

        public void Opened(Uri url)
        {
            lock (_lock)
            {
                _url = url;
            }

            Url.TrySetResult(url);
        }

        public void Finish(DateTimeOffset at, string state, SignInErrorView? error)
        {
            lock (_lock)
            {
                State = state;
                _finishedAt = at;
                _error = error;
            }
        }

        public SignInAttemptView View()
        {
            lock (_lock)
            {
                var url = State == "pending" ? _url?.AbsoluteUri : null;
                return new SignInAttemptView(serverId, State, url, startedAt, _finishedAt, _error);
            }
        }
    }
}

/// <summary>A server's OAuth sign-in as <c>mmcp auth status</c> shows it (never a token), and the sign-in started from the admin UI.</summary>
internal sealed record SignInView(
    bool SignedIn,
    string Label,
    string? AuthorizationServer,
    DateTimeOffset? ObtainedAt,
    DateTimeOffset? ExpiresAt,
    IReadOnlyList<string> Scopes,
    bool CanRefresh,
    SignInAttemptView? Attempt);

/// <summary>One sign-in started from the admin UI: <c>pending</c> (with the URL to open), <c>succeeded</c>,
/// <c>not-needed</c> (the server did not ask), <c>failed</c> or <c>cancelled</c> (with a stable code and a message).</summary>
internal sealed record SignInAttemptView(string ServerId, string State, string? AuthorizationUrl, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, SignInErrorView? Error);

internal sealed record SignInErrorView(string Code, string Message);

internal sealed record SignOutView(string ServerId, bool SignedOut, bool Revoked, string? RevocationProblem);
