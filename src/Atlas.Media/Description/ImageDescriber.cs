using Microsoft.Extensions.AI;
using OpenCvSharp;

namespace Atlas.Media.Description;

/// <summary>
/// Sends pictures (downscaled JPEGs) with a prompt to a vision model through an <see cref="IChatClient"/>. Atlas
/// supplies the client (OpenRouter or any OpenAI-compatible endpoint); without one the task fails with
/// <see cref="MediaErrorCode.LlmUnavailable"/>.
/// </summary>
internal sealed class ImageDescriber
{
    public const string DefaultPrompt =
        "Describe what this picture shows in a few sentences: the scene, notable objects, people (without identifying anyone), and any visible text. Be factual.";

    private readonly Func<IChatClient?> _clientFactory;
    private readonly AtlasMediaOptions _options;

    public ImageDescriber(Func<IChatClient?> clientFactory, AtlasMediaOptions options)
    {
        _clientFactory = clientFactory;
        _options = options;
    }

    public bool IsAvailable => _clientFactory() is not null;

    /// <summary>The model id used in cache keys: the configured one, else the client's default.</summary>
    public string ModelKey
    {
        get
        {
            var client = _clientFactory();
            return _options.DescribeModel ?? client?.GetService<ChatClientMetadata>()?.DefaultModelId ?? "default";
        }
    }

    public static byte[] EncodeForModel(Mat bgr, int maxSide)
    {
        var scale = Math.Min(1.0, maxSide / (double)Math.Max(bgr.Width, bgr.Height));
        using var resized = scale < 1.0 ? bgr.Resize(new Size(), scale, scale, InterpolationFlags.Area) : bgr.Clone();
        Cv2.ImEncode(".jpg", resized, out var bytes, new ImageEncodingParam(ImwriteFlags.JpegQuality, 85));
        return bytes;
    }

    public async Task<DescriptionResult> DescribeAsync(IReadOnlyList<byte[]> jpegs, string? prompt, string? context, CancellationToken cancellationToken)
    {
        var client = _clientFactory() ?? throw new MediaException(MediaErrorCode.LlmUnavailable,
            "No LLM is configured for descriptions: set an OpenRouter key (OPENROUTER_API_KEY) or an OpenAI-compatible endpoint with a vision model.");
        var contents = new List<AIContent> { new TextContent((prompt ?? DefaultPrompt) + (context is null ? string.Empty : "\n\n" + context)) };
        contents.AddRange(jpegs.Select(j => new DataContent(j, "image/jpeg")));
        var options = new ChatOptions { ModelId = _options.DescribeModel, MaxOutputTokens = 600, Temperature = 0.2f };
        using var timeout = new CancellationTokenSource(_options.DescribeTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        ChatResponse response;
        try
        {
            response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, contents)], options, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new MediaException(MediaErrorCode.LlmFailed, $"The vision model did not answer within {_options.DescribeTimeout.TotalSeconds:0} s (Atlas:Media:DescribeTimeout).");
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not MediaException)
        {
            throw new MediaException(MediaErrorCode.LlmFailed, $"The vision model request failed: {ex.Message}", ex);
        }

        var text = response.Text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            throw new MediaException(MediaErrorCode.LlmFailed, "The vision model returned an empty answer.");
        }

        return new DescriptionResult { Text = text, Model = response.ModelId ?? _options.DescribeModel, ImagesSent = jpegs.Count };
    }
}
