namespace Atlas.Desktop.Chat;

/// <summary>The <c>Atlas:Chat</c> configuration section: conversations, history, tools and attachments.</summary>
internal sealed class ChatFeatureOptions
{
    public const string DefaultSystemPrompt =
        "You are Atlas, a helpful assistant running on the user's desktop and used from their phone. Answer concisely. "
        + "When tools are available, use them to act on the user's behalf and say what you did; when a tool fails or is "
        + "not allowed, explain that plainly instead of guessing.";

    /// <summary>The system prompt sent first with every request. Empty for none. Default: a short Atlas prompt.</summary>
    public string SystemPrompt { get; set; } = DefaultSystemPrompt;

    /// <summary>Estimated tokens of history (system prompt and earlier messages) sent with a message; older messages are
    /// left out. Default 12000.</summary>
    public int HistoryTokenBudget { get; set; } = 12_000;

    /// <summary>Tool-call rounds per message before the model must answer without tools. Default 8.</summary>
    public int MaxToolRounds { get; set; } = 8;

    /// <summary>Longest user message in characters. Default 32000.</summary>
    public int MaxMessageChars { get; set; } = 32_000;

    /// <summary>Most attachments per message. Default 8.</summary>
    public int MaxAttachments { get; set; } = 8;

    /// <summary>Most images per message. Default 4.</summary>
    public int MaxImages { get; set; } = 4;

    /// <summary>Largest image attachment in bytes. Default 8 MiB.</summary>
    public long MaxImageBytes { get; set; } = 8L << 20;

    /// <summary>Most characters of text context (all context attachments of a message together). Default 48000.</summary>
    public int MaxContextChars { get; set; } = 48_000;

    /// <summary>How long a finished generation's events stay in memory for exact replay; later resumes get a snapshot
    /// from the database. Default 10 minutes.</summary>
    public TimeSpan ReplayWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Most bytes of buffered events per generation; a resume from before the oldest kept event gets a
    /// snapshot. Default 4 MiB.</summary>
    public int ReplayBufferBytes { get; set; } = 4 << 20;

    /// <summary>How often a running generation's text is saved, so a crash loses at most this much. Default 500 ms.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long request ids are remembered for deduplication. Default 7 days.</summary>
    public TimeSpan RequestRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Answers one device may have running at once, over all its sockets and REST requests together; another
    /// message is refused with <c>rate_limited</c> before anything reaches the model. Default 2.</summary>
    public int MaxConcurrentAnswersPerDevice { get; set; } = 2;

    /// <summary>Answers one device may start per minute, over all its sockets and REST requests together; more are
    /// refused with <c>rate_limited</c> and <c>retryAfter</c>. Resending a message that was accepted does not count.
    /// Default 20.</summary>
    public int AnswersPerMinutePerDevice { get; set; } = 20;
}

/// <summary>Startup checks of <c>Atlas:Llm</c> and <c>Atlas:Chat</c>; each message names the setting and how to fix it.</summary>
internal static class ChatOptionsValidator
{
    public static void Validate(List<string> errors, Hosting.LlmOptions llm, ChatFeatureOptions chat)
    {
        if (string.IsNullOrWhiteSpace(llm.Model) || llm.Model.Length > 128)
        {
            errors.Add("Atlas:Llm:Model must name a model (1 to 128 characters), for example openai/gpt-4o-mini.");
        }

        Range(errors, "Atlas:Llm:IdleTimeout", llm.IdleTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Range(errors, "Atlas:Llm:MaxRetryDelay", llm.MaxRetryDelay, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        Range(errors, "Atlas:Llm:ModelsCacheDuration", llm.ModelsCacheDuration, TimeSpan.Zero, TimeSpan.FromDays(1));
        Range(errors, "Atlas:Chat:ReplayWindow", chat.ReplayWindow, TimeSpan.Zero, TimeSpan.FromDays(1));
        Range(errors, "Atlas:Chat:CheckpointInterval", chat.CheckpointInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1));
        Range(errors, "Atlas:Chat:RequestRetention", chat.RequestRetention, TimeSpan.FromMinutes(1), TimeSpan.FromDays(365));
        if (llm.MaxRetries is < 0 or > 10)
        {
            errors.Add($"Atlas:Llm:MaxRetries is {llm.MaxRetries}; use 0 to 10.");
        }

        if (chat.HistoryTokenBudget < 256 || chat.MaxToolRounds is < 0 or > 64 || chat.MaxMessageChars < 1 || chat.MaxAttachments < 0
            || chat.MaxImages < 0 || chat.MaxImageBytes < 1 || chat.MaxContextChars < 0 || chat.ReplayBufferBytes < 64 * 1024)
        {
            errors.Add("Atlas:Chat: HistoryTokenBudget must be at least 256, MaxToolRounds 0 to 64, MaxMessageChars and MaxImageBytes "
                + "at least 1, MaxAttachments, MaxImages and MaxContextChars 0 or more, ReplayBufferBytes at least 65536.");
        }

        if (chat.MaxConcurrentAnswersPerDevice is < 1 or > 1000 || chat.AnswersPerMinutePerDevice is < 1 or > 100_000)
        {
            errors.Add($"Atlas:Chat:MaxConcurrentAnswersPerDevice is {chat.MaxConcurrentAnswersPerDevice} and AnswersPerMinutePerDevice is "
                + $"{chat.AnswersPerMinutePerDevice}; use 1 to 1000 concurrent answers and 1 to 100000 answers per minute (each device's LLM budget).");
        }

        if (chat.SystemPrompt.Length > 100_000)
        {
            errors.Add("Atlas:Chat:SystemPrompt is longer than 100000 characters.");
        }
    }

    private static void Range(List<string> errors, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{name} is {value}; use a duration from {min} to {max} (format hh:mm:ss).");
        }
    }
}
