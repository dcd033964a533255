using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atlas.Client.Credentials;

/// <summary>Stores credentials in a JSON file readable by the current user only (mode 0600 on Unix), written atomically.</summary>
public sealed class FileCredentialStore : ICredentialStore
{
    private readonly string _path;

    /// <summary>Creates a store at <paramref name="path"/>.</summary>
    /// <param name="path">The file; its directory is created (0700) when missing.</param>
    public FileCredentialStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
    }

    /// <inheritdoc/>
    public async ValueTask<DeviceCredentials?> LoadAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(_path))
        {
            return null;
        }

        await using var stream = File.OpenRead(_path);
        var stored = await JsonSerializer.DeserializeAsync(stream, CredentialJsonContext.Default.StoredCredentials, cancellationToken)
            .ConfigureAwait(false);
        return stored is null
            ? null
            : new DeviceCredentials(new Uri(stored.BaseUri), stored.Fingerprint, stored.DeviceId, stored.Credential, stored.DesktopName);
    }

    /// <inheritdoc/>
    public async ValueTask SaveAsync(DeviceCredentials credentials, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var directory = Path.GetDirectoryName(_path)!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var temp = _path + ".tmp-" + Guid.NewGuid().ToString("N");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var stream = new FileStream(temp, options))
            {
                var stored = new StoredCredentials
                {
                    BaseUri = credentials.BaseUri.ToString(),
                    Fingerprint = credentials.Fingerprint,
                    DeviceId = credentials.DeviceId,
                    Credential = credentials.Credential,
                    DesktopName = credentials.DesktopName,
                };
                await JsonSerializer.SerializeAsync(stream, stored, CredentialJsonContext.Default.StoredCredentials, cancellationToken)
                    .ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, _path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <inheritdoc/>
    public ValueTask DeleteAsync(CancellationToken cancellationToken = default)
    {
        File.Delete(_path);
        return ValueTask.CompletedTask;
    }
}

internal sealed class StoredCredentials
{
    public string BaseUri { get; set; } = "";

    public string Fingerprint { get; set; } = "";

    public string DeviceId { get; set; } = "";

    public string Credential { get; set; } = "";

    public string DesktopName { get; set; } = "";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(StoredCredentials))]
internal sealed partial class CredentialJsonContext : JsonSerializerContext;
