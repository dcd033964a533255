using Microsoft.Extensions.Logging;

namespace Atlas.Media.Diagnostics;

/// <summary>Source-generated log messages of Atlas.Media. Event ids 7000–7099 are reserved for this assembly.</summary>
internal static partial class Log
{
    [LoggerMessage(7000, LogLevel.Debug, "Media job {JobId} queued: {Task} on {Format} ({Bytes} bytes, sha256 {Hash})")]
    public static partial void JobQueued(ILogger logger, string jobId, MediaTask task, string format, long bytes, string hash);

    [LoggerMessage(7001, LogLevel.Information, "Media job {JobId} ({Task}) finished in {ElapsedMs} ms")]
    public static partial void JobSucceeded(ILogger logger, string jobId, MediaTask task, long elapsedMs);

    [LoggerMessage(7002, LogLevel.Warning, "Media job {JobId} ({Task}) failed: {Code}: {Message}")]
    public static partial void JobFailed(ILogger logger, string jobId, MediaTask task, string code, string message);

    [LoggerMessage(7006, LogLevel.Information, "Media job {JobId} ({Task}) refused: {Code}: {Message}")]
    public static partial void JobRefused(ILogger logger, string jobId, MediaTask task, string code, string message);

    [LoggerMessage(7007, LogLevel.Information, "Media request ({Task}) refused: {Code}: {Message}")]
    public static partial void InputRefused(ILogger logger, MediaTask task, string code, string message);

    [LoggerMessage(7003, LogLevel.Information, "Media job {JobId} ({Task}) was cancelled")]
    public static partial void JobCancelled(ILogger logger, string jobId, MediaTask task);

    [LoggerMessage(7004, LogLevel.Error, "Media job {JobId} ({Task}) failed unexpectedly")]
    public static partial void JobCrashed(ILogger logger, Exception exception, string jobId, MediaTask task);

    [LoggerMessage(7005, LogLevel.Debug, "Media job {JobId} ({Task}) answered from cache")]
    public static partial void CacheHit(ILogger logger, string jobId, MediaTask task);

    [LoggerMessage(7010, LogLevel.Debug, "Running {Tool} (timeout {TimeoutSeconds} s, memory limit {MemoryLimitBytes} bytes)")]
    public static partial void ToolStarting(ILogger logger, string tool, double timeoutSeconds, long memoryLimitBytes);

    [LoggerMessage(7011, LogLevel.Warning, "{Tool} failed ({Reason}) after {ElapsedMs} ms: {Detail}")]
    public static partial void ToolFailed(ILogger logger, string tool, string reason, long elapsedMs, string detail);

    [LoggerMessage(7012, LogLevel.Warning, "prlimit is not installed: external tools run without a memory limit (install util-linux)")]
    public static partial void NoPrlimit(ILogger logger);

    [LoggerMessage(7020, LogLevel.Warning, "Media cache at {Path} could not be read or written; continuing without it")]
    public static partial void CacheFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(7021, LogLevel.Debug, "Media cache evicted {Count} results ({Bytes} bytes)")]
    public static partial void CacheEvicted(ILogger logger, int count, long bytes);

    [LoggerMessage(7030, LogLevel.Information, "Media pipeline started: {Workers} workers, queue capacity {Capacity}, cache {CacheDirectory}")]
    public static partial void PipelineStarted(ILogger logger, int workers, int capacity, string cacheDirectory);

    [LoggerMessage(7040, LogLevel.Information, "MCP media tool refused {Path}: {Reason}")]
    public static partial void AccessRefused(ILogger logger, string path, string reason);

    [LoggerMessage(7041, LogLevel.Information, "MCP media tool {Tool} answered an error: {Code}: {Message}")]
    public static partial void ToolRefused(ILogger logger, string tool, string code, string message);
}
