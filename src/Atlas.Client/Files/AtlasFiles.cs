using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Atlas.Client.Protocol;

namespace Atlas.Client.Files;

/// <summary>The device's own file space on the desktop, over the REST file API (streamed, so large files never sit in
/// memory).</summary>
public sealed class AtlasFiles
{
    private readonly AtlasClient _client;

    /// <summary>Creates the file API over a client.</summary>
    /// <param name="client">The paired client.</param>
    public AtlasFiles(AtlasClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
    }

    /// <summary>Lists a directory (the root when <paramref name="path"/> is empty).</summary>
    /// <param name="path">The directory, relative to the device root.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The listing.</returns>
    /// <exception cref="AtlasException">The desktop refused (<c>not_found</c>, <c>invalid_path</c>, <c>forbidden</c>).</exception>
    public async Task<FileListResponse> ListAsync(string? path = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "files/list?path=" + Uri.EscapeDataString(path ?? ""));
        using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await AtlasClient.ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.FileListResponse, cancellationToken).ConfigureAwait(false)
            ?? new FileListResponse();
    }

    /// <summary>Copies a file's bytes into <paramref name="destination"/>.</summary>
    /// <param name="path">The file, relative to the device root.</param>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The number of bytes copied.</returns>
    /// <exception cref="AtlasException">The desktop refused.</exception>
    public async Task<long> DownloadAsync(string path, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(destination);
        using var request = new HttpRequestMessage(HttpMethod.Get, "files/read?path=" + Uri.EscapeDataString(path));
        using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await AtlasClient.ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var before = destination.CanSeek ? destination.Position : 0;
        await body.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        return destination.CanSeek ? destination.Position - before : response.Content.Headers.ContentLength ?? -1;
    }

    /// <summary>Writes a file atomically from <paramref name="content"/>.</summary>
    /// <param name="path">The file, relative to the device root.</param>
    /// <param name="content">The bytes.</param>
    /// <param name="overwrite">Replace an existing file (otherwise <c>already_exists</c>).</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>The written entry.</returns>
    /// <exception cref="AtlasException">The desktop refused (<c>already_exists</c>, <c>quota_exceeded</c>, <c>too_large</c>…).</exception>
    public async Task<FileEntry> UploadAsync(string path, Stream content, bool overwrite = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(content);
        using var request = new HttpRequestMessage(HttpMethod.Post, string.Create(CultureInfo.InvariantCulture,
            $"files/write?path={Uri.EscapeDataString(path)}&overwrite={(overwrite ? "true" : "false")}"))
        {
            Content = new StreamContent(content),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await AtlasClient.ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.FileEntry, cancellationToken).ConfigureAwait(false)
            ?? throw new AtlasException(ErrorCodes.InternalError, "The desktop sent an empty answer to a file write.");
    }
}
