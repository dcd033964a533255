using Microsoft.Extensions.Logging;
using ModelContextProtocol;

namespace Shared.Telemetry;

/// <summary>
/// The MCP SDK's logs with two of its warnings moved to Debug, because they are the protocol working as meant. A server
/// before 2026-07-28 answers the SDK client's <c>server/discover</c> probe with -32601, and the SDK goes on with
/// <c>initialize</c>: the SDK logs that at Warning ("request failed for method 'server/discover'") for nearly every
/// server at every connection. And a handler that answers a request with a protocol error (an
/// <see cref="ModelContextProtocol.McpProtocolException"/>: the hub refusing a server's roots request no client can
/// answer, the gateway refusing a client's call the user did not allow, or a cursor it did not give out) is the answer
/// chosen, which the SDK logs as "request handler failed" at Warning with a stack trace; the hub and the gateway log
/// what they refuse in their own words. Everything else goes as logged. The hub's SDK clients log through one
/// (Mmcp.Client); <c>mmcp serve</c> and <c>mmcp stdio</c>, whose hosts the process owns, log everything through one.
/// </summary>
internal sealed class SdkLoggerFactory(ILoggerFactory inner, bool ownsInner = false) : ILoggerFactory
{
    private const string DiscoverMethod = "server/discover";

    public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        if (ownsInner)
        {
            inner.Dispose(); // flushes the console logger's queue at exit
        }
    }

    private sealed class Logger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning && (IsDiscoverFallback(state, exception, formatter) || IsProtocolAnswer(state, exception, formatter)))
            {
                logLevel = LogLevel.Debug;
                if (!inner.IsEnabled(logLevel))
                {
                    return;
                }
            }

            inner.Log(logLevel, eventId, state, exception, formatter);
        }

        /// <summary>Whether an entry is a handler of the hub's answering a server's request with a protocol error.</summary>
        private static bool IsProtocolAnswer<TState>(TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            exception is McpProtocolException && formatter(state, exception).Contains("request handler failed", StringComparison.Ordinal);

        /// <summary>Whether an entry is the <c>server/discover</c> probe answered with -32601 (method not found).</summary>
        private static bool IsDiscoverFallback<TState>(TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            state is IReadOnlyList<KeyValuePair<string, object?>> values
            && values.Any(v => v.Value is DiscoverMethod)
            && formatter(state, exception).Contains("-32601", StringComparison.Ordinal);
    }
}
