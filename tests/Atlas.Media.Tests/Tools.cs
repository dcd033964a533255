using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Atlas.Media.Tests;

internal static partial class Tools
{
    public static async Task RunAsync(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync(TestContext.Current.CancellationToken);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed: {await stderr}");
        }
    }

    /// <summary>Character error rate after whitespace normalisation.</summary>
    public static double Cer(string reference, string hypothesis)
    {
        var r = Normalize(reference);
        var h = Normalize(hypothesis);
        return Levenshtein(r.ToCharArray(), h.ToCharArray()) / (double)Math.Max(1, r.Length);
    }

    /// <summary>Word error rate on lower-cased words.</summary>
    public static double Wer(string reference, string hypothesis)
    {
        var r = Words(reference);
        var h = Words(hypothesis);
        return Levenshtein(r, h) / (double)Math.Max(1, r.Length);
    }

    private static string Normalize(string s) => Spaces().Replace(s, " ").Trim();

    private static string[] Words(string s) => NonWord().Replace(s.ToLowerInvariant(), " ").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static int Levenshtein<T>(T[] a, T[] b)
    {
        var prev = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var cur = new int[b.Length + 1];
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (Equals(a[i - 1], b[j - 1]) ? 0 : 1));
            }

            prev = cur;
        }

        return prev[b.Length];
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"[^a-z0-9' ]")]
    private static partial Regex NonWord();
}

/// <summary>Creates a pipeline with a private cache and work directory for one test class.</summary>
internal sealed class PipelineHarness : IAsyncDisposable
{
    public PipelineHarness(Action<AtlasMediaOptions>? configure = null, Atlas.Media.Jobs.MediaEngines? engines = null, Microsoft.Extensions.AI.IChatClient? chat = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "atlas-media-h-" + Guid.NewGuid().ToString("N")[..8]);
        Options = new AtlasMediaOptions
        {
            CacheDirectory = Path.Combine(Root, "cache"),
            WorkDirectory = Path.Combine(Root, "work"),
            MaxConcurrency = 2,
        };
        configure?.Invoke(Options);
        var logger = loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        Pipeline = new MediaPipeline(Options, engines ?? MediaPipeline.CreateDefaultEngines(Options, logger), () => chat, logger, time ?? TimeProvider.System, ownsEngines: engines is null);
    }

    public string Root { get; }

    public AtlasMediaOptions Options { get; }

    public MediaPipeline Pipeline { get; }

    public Task<MediaResult> RunAsync(MediaTask task, string path, Func<MediaRequest, MediaRequest>? edit = null)
    {
        var request = MediaRequest.ForFile(task, path);
        return Pipeline.ProcessAsync(edit is null ? request : edit(request), cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Pipeline.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A clock that never moves (timers stay real): every access happens in the same millisecond.</summary>
internal sealed class StoppedClock : TimeProvider
{
    private readonly DateTimeOffset _now = TimeProvider.System.GetUtcNow();

    public override DateTimeOffset GetUtcNow() => _now;
}

/// <summary>Keeps every log entry (level, message, exception) for assertions.</summary>
internal sealed class CapturingLoggerFactory : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
    {
    }

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue(new LogEntry(logLevel, formatter(state, exception), exception));
}

internal sealed record LogEntry(Microsoft.Extensions.Logging.LogLevel Level, string Message, Exception? Exception);
