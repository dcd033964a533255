using System.Globalization;
using Mmcp.Cli.Application;
using Mmcp.Client;

namespace Mmcp.Cli.Output;

/// <summary>
/// Shows on standard error which servers are still starting while a listing waits for them (a cold <c>npx</c> server
/// can take half a minute): on a terminal one line rewritten in place; with <c>--progress</c> and redirected standard
/// error, plain lines (a start line, one line per interval while servers are still starting, a finish line). Never on
/// standard output.
/// </summary>
internal sealed class ListingProgress
{
    /// <summary>How often the still-starting servers are reported.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly MmcpHub _hub;
    private readonly TextWriter _error;
    private readonly bool _terminal;
    private readonly TimeProvider _time;

    private ListingProgress(MmcpHub hub, TextWriter error, bool terminal, TimeProvider time)
    {
        _hub = hub;
        _error = error;
        _terminal = terminal;
        _time = time;
    }

    /// <summary>Runs <paramref name="work"/>, reporting progress when standard error is a terminal or <paramref name="requested"/> is set.</summary>
    public static async Task<T> RunAsync<T>(CliContext context, bool requested, string? serverId, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        var terminal = !Console.IsErrorRedirected;
        if (!terminal && !requested)
        {
            return await work(cancellationToken).ConfigureAwait(false);
        }

        var hub = context.Hub;
        var discovery = await hub.DiscoverServersAsync(cancellationToken).ConfigureAwait(false);
        var ids = serverId is null ? discovery.Servers.Select(s => s.Id).ToList() : [serverId];
        return await new ListingProgress(hub, Console.Error, terminal, TimeProvider.System).RunAsync(ids, work, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> RunAsync<T>(List<string> ids, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        if (!_terminal)
        {
            await _error.WriteLineAsync($"mmcp: waiting for {ids.Count} server(s): {string.Join(", ", ids)}").ConfigureAwait(false);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = ReportAsync(ids, started, stop.Token);
        try
        {
            return await work(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await reporter.ConfigureAwait(false);
            var elapsed = Seconds(_time.GetElapsedTime(started));
            await _error.WriteAsync(_terminal ? "\r\u001b[K" : $"mmcp: finished waiting for servers after {elapsed} s{Environment.NewLine}").ConfigureAwait(false);
        }
    }

    private async Task ReportAsync(List<string> ids, long started, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var pending = ids.Where(StillStarting).ToList();
                if (pending.Count == 0)
                {
                    continue;
                }

                var line = $"{Seconds(_time.GetElapsedTime(started))} s: still starting {pending.Count} server(s): {string.Join(", ", pending)}";
                await _error.WriteAsync(_terminal ? $"\r\u001b[K{line}" : $"mmcp: {line}{Environment.NewLine}").ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private bool StillStarting(string id)
    {
        try
        {
            var status = _hub.GetServerStatus(id);
            return status.State is ServerState.Connecting or ServerState.Disconnected && status.LastFailure is null;
        }
        catch (HubException)
        {
            return false;
        }
    }

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
}
