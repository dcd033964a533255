namespace Atlas.Media.Description;

/// <summary>Options of the <see cref="MediaTask.Describe"/> task (part of the cache key).</summary>
public sealed record DescribeOptions
{
    /// <summary>The instruction sent with the picture(s); null uses a neutral "describe what is shown" prompt. At most 2,000 characters.</summary>
    public string? Prompt { get; init; }

    /// <summary>For videos: how many scene frames are sent (1–16). Default: 4.</summary>
    public int MaxFrames { get; init; } = 4;
}

/// <summary>A vision model's description.</summary>
public sealed record DescriptionResult
{
    /// <summary>The description.</summary>
    public required string Text { get; init; }

    /// <summary>The model that answered, as reported by the endpoint.</summary>
    public string? Model { get; init; }

    /// <summary>How many pictures were sent.</summary>
    public int ImagesSent { get; init; }
}
