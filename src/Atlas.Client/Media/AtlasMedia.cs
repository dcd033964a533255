using System.Net.Http.Json;
using System.Text.Json;
using Atlas.Client.Protocol;

namespace Atlas.Client.Media;

/// <summary>Media processing on the desktop (OCR, analysis, frames, transcription, descriptions) over
/// <c>POST /media/process</c>.</summary>
public sealed class AtlasMedia
{
    /// <summary>The task names the desktop accepts.</summary>
    public static IReadOnlyList<string> Tasks { get; } = ["ocr", "analyze", "frames", "transcribe", "describe", "context"];

    private readonly AtlasClient _client;

    /// <summary>Creates the media API over a client.</summary>
    /// <param name="client">The paired client.</param>
    public AtlasMedia(AtlasClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
    }

    /// <summary>Runs <paramref name="task"/> on a file in the device's space and returns the final result (the
    /// <c>data</c> of the last <c>media_result</c>: <c>result</c>, <c>fromCache</c>, <c>files</c>).</summary>
    /// <param name="task">One of <see cref="Tasks"/>.</param>
    /// <param name="path">The file, relative to the device root.</param>
    /// <param name="requestId">The idempotency key; a new one when omitted.</param>
    /// <param name="cancellationToken">Stops waiting (the job still finishes on the desktop and is cached).</param>
    /// <returns>The result.</returns>
    /// <exception cref="AtlasException">The desktop refused (<c>unsupported_media</c>, <c>not_available</c>…).</exception>
    public async Task<JsonElement> ProcessAsync(string task, string path, string? requestId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(task);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var body = new Dictionary<string, JsonElement>(StringComparer.Ordinal)
        {
            ["task"] = JsonSerializer.SerializeToElement(task, AtlasJsonContext.Default.String),
            ["path"] = JsonSerializer.SerializeToElement(path, AtlasJsonContext.Default.String),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "media/process")
        {
            Content = JsonContent.Create(body, AtlasJsonContext.Default.DictionaryStringJsonElement),
        };
        request.Headers.Add("Idempotency-Key", requestId ?? Guid.CreateVersion7().ToString("N"));
        using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await AtlasClient.ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.JsonElement, cancellationToken).ConfigureAwait(false);
    }
}
