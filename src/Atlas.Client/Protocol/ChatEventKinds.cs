namespace Atlas.Client.Protocol;

/// <summary>The kinds of <see cref="ChatEvent"/>.</summary>
public static class ChatEventKinds
{
    /// <summary>First event: the ids, the model and the user's message.</summary>
    public const string Start = "start";

    /// <summary>Text to append.</summary>
    public const string Delta = "delta";

    /// <summary>The model asked for a tool.</summary>
    public const string ToolCall = "tool_call";

    /// <summary>A tool's result (or why it failed or was denied).</summary>
    public const string ToolResult = "tool_result";

    /// <summary>Terminal: finished, with the finish reason and usage.</summary>
    public const string Done = "done";

    /// <summary>Terminal: failed, with a stable error code.</summary>
    public const string Error = "error";

    /// <summary>Terminal: stopped by <c>chat_cancel</c>.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The whole message so far (after a resume whose events are no longer buffered); terminal when its
    /// status is.</summary>
    public const string Snapshot = "snapshot";

    /// <summary>Whether an event of <paramref name="kind"/> with <paramref name="status"/> ends the generation.</summary>
    /// <param name="kind">The event kind.</param>
    /// <param name="status">The snapshot status, for snapshots.</param>
    /// <returns><see langword="true"/> for a terminal event.</returns>
    public static bool IsTerminal(string kind, string? status = null) =>
        kind is Done or Error or Cancelled || (kind == Snapshot && status is not null and not ChatStatus.Streaming);
}
