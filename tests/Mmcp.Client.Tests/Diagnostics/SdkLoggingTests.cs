using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Mmcp.Core.Manifests;

namespace Mmcp.Client.Tests.Diagnostics;

/// <summary>What the MCP SDK's client logs through the hub, as `mmcp serve` and `mmcp stdio` print it at Warning.</summary>
public sealed class SdkLoggingTests
{
    /// <summary>
    /// Connecting to a server that does not speak 2026-07-28 (most of them): the SDK's <c>server/discover</c> probe
    /// gets -32601 and the SDK falls back to <c>initialize</c>, as the protocol intends; it logged that as a warning
    /// ("request failed for method 'server/discover'") for every server at every start. It is logged at Debug now; a
    /// request that really failed is still a warning.
    /// </summary>
    [Fact]
    [Trait("Issue15", "logs")]
    public async Task Connect_ToAServerWithoutServerDiscover_LogsTheFallbackAtDebug()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.Manifest("io.ev", new StdioTransport { Command = "node", Args = [NpmServers.Script("server-everything"), "stdio"] }));
        var logs = new Capture();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        await using var hub = MmcpHub.Create(env.Options(), factory);
        var ct = TestContext.Current.CancellationToken;

        await hub.CallToolAsync("io.ev", "echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: ct);
        await Assert.ThrowsAsync<HubException>(() => hub.ReadResourceAsync("io.ev", "demo://no/such/thing", ct).AsTask());

        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("server/discover", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning && e.Message.Contains("server/discover", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("resources/read", StringComparison.Ordinal));
    }

    private sealed class Capture : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Capture capture, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                capture.Entries.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }
}
