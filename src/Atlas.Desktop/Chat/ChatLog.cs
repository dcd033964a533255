namespace Atlas.Desktop.Chat;

/// <summary>Chat log messages (event ids 1401–1499). Message text, keys and tool payloads are never logged.</summary>
internal static partial class ChatLog
{
    [LoggerMessage(1401, LogLevel.Information, "Generation {MessageId} for device {DeviceId} started (model {Model})")]
    public static partial void GenerationStarted(ILogger logger, string messageId, string deviceId, string model);

    [LoggerMessage(1402, LogLevel.Information, "Generation {MessageId} ended: {Status} {Code} ({Deltas} deltas, {Tokens} tokens)")]
    public static partial void GenerationEnded(ILogger logger, string messageId, string status, string? code, long deltas, long tokens);

    [LoggerMessage(1403, LogLevel.Warning, "Generation {MessageId} failed: {Code}: {Message}")]
    public static partial void GenerationFailed(ILogger logger, string messageId, string code, string message);

    [LoggerMessage(1404, LogLevel.Error, "Generation {MessageId} crashed")]
    public static partial void GenerationCrashed(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(1405, LogLevel.Warning, "Saving generation {MessageId} failed; retried at the next checkpoint")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(1406, LogLevel.Information, "Marked {Count} generations interrupted by the previous shutdown")]
    public static partial void RecoveredInterrupted(ILogger logger, int count);

    [LoggerMessage(1407, LogLevel.Information, "Generation {MessageId} cancelled by device {DeviceId}")]
    public static partial void GenerationCancelled(ILogger logger, string messageId, string deviceId);

    [LoggerMessage(1410, LogLevel.Warning, "The LLM endpoint's model list answered HTTP {Status}; models are not checked until it answers")]
    public static partial void ModelsFailed(ILogger logger, int status);

    [LoggerMessage(1411, LogLevel.Warning, "The LLM endpoint's model list could not be fetched ({Reason}); models are not checked until it answers")]
    public static partial void ModelsUnreachable(ILogger logger, string reason);

    [LoggerMessage(1420, LogLevel.Information, "Tool {Tool} called for device {DeviceId}: {Outcome} in {Milliseconds} ms")]
    public static partial void ToolCalled(ILogger logger, string tool, string deviceId, string outcome, long milliseconds);

    [LoggerMessage(1421, LogLevel.Warning, "Tool {Tool} denied for device {DeviceId}: {Reason}")]
    public static partial void ToolDenied(ILogger logger, string tool, string deviceId, string reason);

    [LoggerMessage(1422, LogLevel.Warning, "Listing the hub's tools failed; the message is answered without tools")]
    public static partial void ToolsUnavailable(ILogger logger, Exception exception);
}
