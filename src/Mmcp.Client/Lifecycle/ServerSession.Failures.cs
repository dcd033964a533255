using Mmcp.Client.Authorization;
using Mmcp.Client.Connectors;
using Mmcp.Core.Manifests;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Mmcp.Client.Lifecycle;

/// <summary>Failures: crashes noticed by the watcher, errors of requests, lost sessions, and the restart back-off.</summary>
internal sealed partial class ServerSession
{
    private async Task WatchAsync(LiveConnection live)
    {
        ClientCompletionDetails details;
        try
        {
            details = await live.Client.Completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            details = new ClientCompletionDetails { Exception = ex };
        }

        var onPurpose = live.ClosingOnPurpose;
        if (!onPurpose)
        {
            var failure = await CrashFailureAsync(live, details).ConfigureAwait(false);
            live.Failure = failure;
            lock (_gate)
            {
                RecordFailureLocked(failure, countsTowardsBackoff: true);
            }

            Log.ServerCrashed(_rt.Logger, Id, failure.Message);
        }

        lock (_gate)
        {
            if (ReferenceEquals(_live, live))
            {
                _live = null;
                _liveTools = null;
            }
        }

        live.MarkClosed();
        if (!onPurpose)
        {
            await live.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<ServerFailure> CrashFailureAsync(LiveConnection live, ClientCompletionDetails details)
    {
        var stdio = details as StdioClientCompletionDetails;
        var exitCode = stdio?.ExitCode ?? await ExitCodeAsync(live.Connection).ConfigureAwait(false);
        var tail = live.Connection.GetDiagnosticsTail() is { Count: > 0 } t ? t : stdio?.StandardErrorTail ?? [];
        var status = (int?)(details as HttpClientCompletionDetails)?.HttpStatusCode;
        var what = exitCode is { } code ? $"exited with code {code}"
            : status is { } s ? $"ended the HTTP session with status {s}"
            : details.Exception is { } e && e is not OperationCanceledException ? $"closed the connection ({e.Message})"
            : "closed the connection";
        var last = tail.Count > 0 ? $"; its last output: {tail[^1]}" : string.Empty;
        return new ServerFailure(HubErrorCode.ServerCrashed, $"Server '{Id}' {what}{last}", _rt.Time.GetUtcNow())
        {
            ExitCode = exitCode,
            StandardErrorTail = tail,
            HttpStatusCode = status,
        };
    }

    /// <summary>The exit code of a stdio server whose output ended: it normally exits at once; waits briefly for it.</summary>
    private async Task<int?> ExitCodeAsync(ServerConnection connection)
    {
        if (connection.Exited is not { } exited)
        {
            return null;
        }

        try
        {
            return await exited.WaitAsync(CrashDetailsWait, _rt.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private async ValueTask<HubException> ClassifyAsync(Exception ex, LiveConnection live, bool timedOut, string method, string? target, RequestKind kind)
    {
        if (BackgroundAuthorization.Find(ex) is { } signIn)
        {
            // A refresh that was refused, or a call that needs a scope the sign-in lacks (step-up needs the user).
            return new HubException(signIn.Code, Id, signIn.Message, ex, new ServerFailure(signIn.Code, signIn.Message, _rt.Time.GetUtcNow())) { Target = target };
        }

        var what = target is null ? method : $"{method} '{target}'";
        if (_server.Manifest.Transport is HttpTransport && FailureClassifier.FindHttpStatus(ex, live.Client.Completion) is (401 or 403) and var refusal)
        {
            // The server is up and refuses this client (credentials no longer accepted, a permission taken away): not a
            // crash, and not cured by starting anything; the user's action is the fix.
            var message = $"Server '{Id}' refused this client (HTTP {refusal}) during {what}: {ex.GetBaseException().Message}";
            return new HubException(HubErrorCode.SignInRequired, Id, message, ex, new ServerFailure(HubErrorCode.SignInRequired, message, _rt.Time.GetUtcNow()) { HttpStatusCode = refusal }) { Target = target };
        }

        var code = FailureClassifier.Classify(ex, connectionLost: live.Closed.IsCancellationRequested || !live.IsOpen, timedOut, kind);
        if (code == HubErrorCode.ServerCrashed)
        {
            // Wait briefly for the watcher so the error carries the exit code and standard error.
            if (live.Watcher is { } watcher)
            {
                try
                {
                    await watcher.WaitAsync(CrashDetailsWait, _rt.Time).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }

            var failure = live.Failure ?? new ServerFailure(HubErrorCode.ServerCrashed, $"Server '{Id}' closed the connection ({ex.Message})", _rt.Time.GetUtcNow());
            var retry = kind == RequestKind.CallTool ? "The tool call was not retried (it may have had effects); the next use restarts the server." : "The next use restarts the server.";
            return new HubException(HubErrorCode.ServerCrashed, Id, $"{failure.Message} during {what}. {retry}", ex, failure) { Target = target };
        }

        if (code == HubErrorCode.CallTimeout)
        {
            return new HubException(HubErrorCode.CallTimeout, Id, $"Server '{Id}' did not answer {what} within its call budget of {Seconds(_budgets.Call)} s; the request was cancelled. Raise 'timeouts.call' in its definition ({_server.Provenance}) if it needs longer.", ex) { Target = target };
        }

        if (RefusedRequest(ex) is { } refused)
        {
            return new HubException(HubErrorCode.ServerError, Id, $"Server '{Id}' asked this client for {refused} during {what}, and it was refused: {ex.GetBaseException().Message}", ex) { Target = target };
        }

        if (ex is McpProtocolException protocol)
        {
            var message = code switch
            {
                HubErrorCode.NotFound => $"Server '{Id}' has nothing at {what}: {protocol.Message}",
                // -32602 says the request's params were invalid, not which: usually the arguments, but a server may say it
                // of its own result (structuredContent against its outputSchema) or of the name. The server's message says.
                HubErrorCode.InvalidArguments => $"Server '{Id}' answered {what} with JSON-RPC error -32602 (invalid params): {protocol.Message}",
                _ when protocol.ErrorCode == McpErrorCode.MethodNotFound => $"Server '{Id}' does not support {method}: {protocol.Message}",
                _ => $"Server '{Id}' failed {what} with error {(int)protocol.ErrorCode}: {protocol.Message}",
            };
            return new HubException(code, Id, message, ex) { Target = target };
        }

        return new HubException(HubErrorCode.ServerError, Id, $"Server '{Id}' failed {what}: {ex.Message}", ex) { Target = target };
    }

    // ---------------------------------------------------------------- lost sessions

    /// <summary>
    /// Whether a remote server answered that it does not know this connection's session: HTTP 404 (the spec), or a
    /// JSON-RPC error naming the session, which is how the SDK (2.3.1) surfaces the 400 "No valid session ID provided"
    /// of servers built on the TypeScript SDK (server-everything, the conformance reference server).
    /// </summary>
    private bool IsSessionLost(Exception ex, LiveConnection live)
        => _server.Manifest.Transport is HttpTransport && FailureClassifier.IsSessionLost(ex, live.Client.Completion);

    /// <summary>Whether the server's last known tool list annotates <paramref name="tool"/> as read-only or idempotent, so calling it twice does no harm.</summary>
    private bool IsIdempotentTool(string? tool)
    {
        if (tool is null)
        {
            return false;
        }

        foreach (var t in KnownTools.Tools)
        {
            if (string.Equals(t.Name, tool, StringComparison.Ordinal))
            {
                return t.Annotations is { } a && (a.ReadOnlyHint == true || a.IdempotentHint == true);
            }
        }

        return false;
    }

    /// <summary>Closes a connection whose session the server lost, records the failure, and counts the reconnect the next use makes.</summary>
    private async ValueTask<ServerFailure> DropLostSessionAsync(LiveConnection live, Exception ex, string method, string? target)
    {
        var status = FailureClassifier.FindHttpStatus(ex, live.Client.Completion);
        var failure = new ServerFailure(
            HubErrorCode.ServerCrashed,
            $"Server '{Id}' restarted: it no longer knows the hub's session{(status is { } s ? $" (HTTP {s})" : string.Empty)}: {ex.Message}",
            _rt.Time.GetUtcNow())
        {
            HttpStatusCode = status,
        };
        // The SDK ends the connection on a 404 by itself: then the watcher may have counted it as a crash already.
        // A lost session is cured by a new one, so it neither counts towards the back-off nor is counted twice.
        live.ClosingOnPurpose = true;
        if (live.Client.Completion.IsCompleted && live.Watcher is { } watcher)
        {
            await watcher.WaitAsync(CrashDetailsWait, _rt.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var countedAsCrash = live.Failure is not null;
        live.Failure = failure;
        var wasCurrent = false;
        lock (_gate)
        {
            if (countedAsCrash)
            {
                _backoff.Forgive();
            }

            RecordFailureLocked(failure, countsTowardsBackoff: false);
            _reconnects++;
            if (ReferenceEquals(_live, live))
            {
                wasCurrent = true;
                _live = null;
                _liveTools = null;
            }
        }

        Log.SessionLost(_rt.Logger, Id, method, target, ex.Message);
        if (wasCurrent)
        {
            await CloseAsync(live).ConfigureAwait(false);
        }

        return failure;

    }

    // ---------------------------------------------------------------- failures and backoff

    private void RecordFailureLocked(ServerFailure failure, bool countsTowardsBackoff)
    {
        _lastFailure = failure;
        if (countsTowardsBackoff)
        {
            _backoff.RecordFailure();
        }

        if (RefusesClient(failure) && !_refused)
        {
            // What was known of its tools goes, here and in the cache on disk, so another process (the next
            // `mmcp tools`) does not list them while its own attempt is still waiting for the refusal.
            _refused = true;
            _liveTools = null;
            _lastLiveTools = null;
            _cachedTools = null;
            _cacheLoaded = true;
            if (_rt.Options.PersistToolCache)
            {
                _rt.Cache.Forget(Id);
            }

            AnnounceListsChanged();
        }
    }

    /// <summary>
    /// Whether a failure means that the server refuses this client (a sign-in is missing or was revoked, a desktop
    /// revoked this device or took a permission away) rather than that it is down. Then what the hub knew of its tools,
    /// resources and prompts from before (the last live list, the cache on disk, the manifest's snapshot) is not
    /// listed: a list kept from before is not a permission.
    /// </summary>
    internal static bool RefusesClient(ServerFailure failure) =>
        failure.Code == HubErrorCode.SignInRequired || failure.HttpStatusCode is 401 or 403;

    /// <summary>A connection opened: a server that refused this client accepts it again, and its lists are shown again.</summary>
    private void AcceptedLocked()
    {
        if (_refused)
        {
            _refused = false;
            AnnounceListsChanged();
        }
    }

    /// <summary>Tells the hub's listeners (the gateway's catalog, its clients) that this server's lists changed, from
    /// the thread pool: never under the session's lock.</summary>
    private void AnnounceListsChanged() =>
        ThreadPool.UnsafeQueueUserWorkItem(
            static session =>
            {
                foreach (var kind in (ReadOnlySpan<HubListKind>)[HubListKind.Tools, HubListKind.Resources, HubListKind.Prompts])
                {
                    session._rt.ListChanged?.Invoke(session.Id, kind);
                }
            },
            this,
            preferLocal: false);

    private void OnSuccess()
    {
        if (_backoff.ConsecutiveFailures == 0)
        {
            return;
        }

        lock (_gate)
        {
            _backoff.Reset();
        }
    }

    /// <summary>How long a connection must stay up for its failure to start a new count: twice the longest back-off, at least a minute (a server that ran that long was in no crash loop).</summary>
    private static TimeSpan StableUptime(TimeSpan maxBackoff) => maxBackoff * 2 > StableUptimeFloor ? maxBackoff * 2 : StableUptimeFloor;

    private ServerFailure ToFailure(HubException ex) =>
        new(ex.Code, ex.Message, ex.Failure?.At ?? _rt.Time.GetUtcNow())
        {
            ExitCode = ex.Failure?.ExitCode,
            StandardErrorTail = ex.Failure?.StandardErrorTail ?? [],
            HttpStatusCode = ex.Failure?.HttpStatusCode,
        };

    private static void ObserveFailure(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
