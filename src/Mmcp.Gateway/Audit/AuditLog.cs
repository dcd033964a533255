using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmcp.Core.Registry;

namespace Mmcp.Gateway.Audit;

/// <summary>One audited tool call.</summary>
/// <param name="At">When it started.</param>
/// <param name="Caller">Who called: <c>local</c> or <c>token:&lt;id&gt; (&lt;name&gt;)</c>.</param>
/// <param name="Surface">Through which face: <c>mcp</c>, <c>servers</c>, <c>rest</c>, <c>openapi</c>, <c>stdio</c>.</param>
/// <param name="ServerId">The server.</param>
/// <param name="Tool">The tool's own name.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="Outcome"><c>ok</c>, <c>tool-error</c>, <c>cancelled</c>, <c>refused</c> or the hub error code.</param>
internal sealed record AuditEntry(DateTimeOffset At, string Caller, string Surface, string ServerId, string Tool, TimeSpan Duration, string Outcome);

/// <summary>
/// The audit log of every tool call: to the logs (category <c>Mmcp.Gateway.Audit</c>, Information; arguments only at
/// Trace) and, by default, as JSON lines to <c>$XDG_STATE_HOME/mmcp/audit.jsonl</c> (mode 0600) through a bounded
/// queue written in the background, so calls never wait for the disk.
/// </summary>
internal sealed partial class AuditLog : IAsyncDisposable
{
    /// <summary>How long the writer waits after the first entry of a batch before writing the batch.</summary>
    internal static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(50);
    private readonly ILogger _logger;
    private readonly Channel<AuditEntry>? _queue;
    private readonly Task? _writer;
    private readonly string? _path;
    private long _dropped;

    public AuditLog(IOptions<MmcpGatewayOptions> options, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger("Mmcp.Gateway.Audit");
        var o = options.Value;
        if (o.AuditToFile)
        {
            _path = o.AuditLogPath ?? DefaultPath(MmcpEnvironment.Process);
            _queue = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
            _writer = Shared.Telemetry.Detached.Run(WriteLoopAsync); // built on first use, maybe inside a request
        }
    }

    public string? Path => _path;

    public static string DefaultPath(MmcpEnvironment environment)
    {
        var state = environment.Get("XDG_STATE_HOME") is { } s && System.IO.Path.IsPathRooted(s) ? s : System.IO.Path.Combine(environment.HomeDirectory, ".local", "state");
        return System.IO.Path.Combine(state, "mmcp", "audit.jsonl");
    }

    public bool TraceArguments => _logger.IsEnabled(LogLevel.Trace);

    public void Record(AuditEntry entry, string? argumentsJson = null)
    {
        Log.Call(_logger, entry.Caller, entry.Surface, entry.ServerId, entry.Tool, entry.Duration.TotalMilliseconds, entry.Outcome);
        if (argumentsJson is not null)
        {
            Log.Arguments(_logger, entry.ServerId, entry.Tool, argumentsJson);
        }

        if (_queue is not null && !_queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task WriteLoopAsync()
    {
        var buffer = new StringBuilder();
        while (await _queue!.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Gather what arrives in the next moment into one write: under load the writer wakes a few times a second
            // instead of once per call, so it does not compete with the calls for the CPU.
            await Task.Delay(BatchWindow).ConfigureAwait(false);
            buffer.Clear();
            while (_queue.Reader.TryRead(out var e))
            {
                buffer.Append(Format(e)).Append('\n');
            }

            var dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0)
            {
                buffer.Append(CultureInfo.InvariantCulture, $"{{\"dropped\":{dropped}}}\n");
            }

            try
            {
                AppendPrivate(_path!, buffer.ToString());
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.WriteFailed(_logger, _path!, ex);
            }
        }
    }

    private static void AppendPrivate(string path, string text)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(text));
    }

    private static string Format(AuditEntry e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("at", e.At.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("caller", e.Caller);
            w.WriteString("surface", e.Surface);
            w.WriteString("server", e.ServerId);
            w.WriteString("tool", e.Tool);
            w.WriteNumber("durationMs", Math.Round(e.Duration.TotalMilliseconds, 3));
            w.WriteString("outcome", e.Outcome);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        if (_queue is not null)
        {
            _queue.Writer.TryComplete();
            await _writer!.ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Information, "{Caller} called {ServerId}/{Tool} via {Surface} in {DurationMs:0.0} ms: {Outcome}")]
        public static partial void Call(ILogger logger, string caller, string surface, string serverId, string tool, double durationMs, string outcome);

        [LoggerMessage(4102, LogLevel.Trace, "Arguments of {ServerId}/{Tool}: {Arguments}")]
        public static partial void Arguments(ILogger logger, string serverId, string tool, string arguments);

        [LoggerMessage(4103, LogLevel.Warning, "Could not write the audit log {Path}")]
        public static partial void WriteFailed(ILogger logger, string path, Exception exception);
    }
}
