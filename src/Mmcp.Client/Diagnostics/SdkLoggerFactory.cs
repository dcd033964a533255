using Microsoft.Extensions.Logging;
using ModelContextProtocol;

namespace Mmcp.Client.Diagnostics;

/// <summary>
/// The MCP SDK client's logs as the hub passes them on. One of them is the protocol working as intended, not a
/// warning: a server before 2026-07-28 answers the SDK's <c>server/discover</c> probe with -32601, and the SDK goes on
/// with <c>initialize</c>. The SDK logs that at Warning ("request failed for method 'server/discover'") for nearly
/// every server at every connection; here it is Debug. So is the SDK's warning, with a stack trace, when one of the
/// hub's handlers of a server's request (roots, sampling, elicitation) answers with a protocol error: that is the answer
/// the hub chose (a gateway refusing what no client can be asked, say), and the hub logs it in its own words. Everything
/// else goes as the SDK logs it.
/// </summary>
internal sealed class SdkLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private const string DiscoverMethod = "server/discover";

    public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The inner factory is the hub's owner's.
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
