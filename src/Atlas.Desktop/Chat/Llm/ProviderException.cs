namespace Atlas.Desktop.Chat.Llm;

/// <summary>A provider failure already mapped to a stable client code (see <see cref="LlmErrors"/>). Thrown by the stream
/// guard for failures the OpenAI SDK cannot express (error chunks inside a 200 stream, truncated streams).</summary>
internal sealed class ProviderException : Exception
{
    public ProviderException(string code, string message, int? retryAfter = null, bool retryable = false, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        RetryAfter = retryAfter;
        Retryable = retryable;
    }

    public string Code { get; }

    public int? RetryAfter { get; }

    public bool Retryable { get; }
}
