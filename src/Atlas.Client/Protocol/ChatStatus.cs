namespace Atlas.Client.Protocol;

/// <summary>The status of an assistant message.</summary>
public static class ChatStatus
{
    /// <summary>Being generated.</summary>
    public const string Streaming = "streaming";

    /// <summary>Finished normally.</summary>
    public const string Done = "done";

    /// <summary>Ended with an error (the text received so far is kept).</summary>
    public const string Error = "error";

    /// <summary>Stopped by <c>chat_cancel</c>.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The desktop stopped while it was being generated.</summary>
    public const string Interrupted = "interrupted";
}
