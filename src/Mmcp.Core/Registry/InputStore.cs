using System.Text.Json;

namespace Mmcp.Core.Registry;

/// <summary>
/// The values of VS Code inputs (<c>${input:ID}</c>) that <c>mmcp config inputs set</c> stored: a JSON file
/// (<c>$XDG_CONFIG_HOME/mmcp/inputs.json</c>) private to the user.
/// </summary>
/// <remarks>
/// The directory is created with mode 0700 and the file is always written as a new file created with mode 0600 and
/// renamed over the old one, so it is never readable by others, not even while it is written. An environment variable
/// <c>MMCP_INPUT_&lt;ID&gt;</c> wins over a stored value (see <see cref="Imports.ClientConfigSource.InputVariable"/>).
/// </remarks>
public sealed class InputStore
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Initializes a new instance of the <see cref="InputStore"/> class.</summary>
    /// <param name="path">The file.</param>
    public InputStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>Gets the file.</summary>
    public string Path { get; }

    /// <summary>Returns the store of <paramref name="environment"/>: <c>$XDG_CONFIG_HOME/mmcp/inputs.json</c>.</summary>
    /// <param name="environment">The environment.</param>
    /// <returns>The store.</returns>
    public static InputStore For(MmcpEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new InputStore(System.IO.Path.Combine(environment.ConfigHome, "mmcp", "inputs.json"));
    }

    /// <summary>Returns whether <paramref name="id"/> can name an input: 1 to 200 characters, none of them a control character.</summary>
    /// <param name="id">The input id.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidId(string? id) => id is { Length: > 0 and <= 200 } && !id.Any(char.IsControl);

    /// <summary>Reads every stored value (none when the file does not exist).</summary>
    /// <returns>The values by input id.</returns>
    /// <exception cref="IOException">The file cannot be read or is not a JSON object of strings.</exception>
    public IReadOnlyDictionary<string, string> Read()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Object)
            {
                foreach (var input in inputs.EnumerateObject())
                {
                    if (input.Value.ValueKind == JsonValueKind.String)
                    {
                        values[input.Name] = input.Value.GetString()!;
                    }
                }
            }

            return values;
        }
        catch (JsonException ex)
        {
            throw new IOException($"'{Path}' is not valid JSON ({ex.Message}); fix or delete it and set the inputs again with 'mmcp config inputs set ID'.", ex);
        }
    }

    /// <summary>Returns the stored value of one input, or <see langword="null"/>.</summary>
    /// <param name="id">The input id.</param>
    /// <returns>The value.</returns>
    public string? Get(string id) => Read().GetValueOrDefault(id);

    /// <summary>Stores (or replaces) the value of an input.</summary>
    /// <param name="id">The input id.</param>
    /// <param name="value">The value.</param>
    public void Set(string id, string value)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException("An input id has 1 to 200 characters and no control characters.", nameof(id));
        }

        ArgumentNullException.ThrowIfNull(value);
        var values = new Dictionary<string, string>(Read(), StringComparer.Ordinal) { [id] = value };
        Write(values);
    }

    /// <summary>Removes the stored value of an input.</summary>
    /// <param name="id">The input id.</param>
    /// <returns><see langword="true"/> when a value was stored.</returns>
    public bool Remove(string id)
    {
        var values = new Dictionary<string, string>(Read(), StringComparer.Ordinal);
        if (!values.Remove(id))
        {
            return false;
        }

        Write(values);
        return true;
    }

    private void Write(Dictionary<string, string> values)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        RegistryPaths.EnsurePrivateDirectory(directory);
        var temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFile; // created private: never readable by others, not even while written
        }

        try
        {
            using (var stream = new FileStream(temp, options))
            {
                using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                {
                    writer.WriteStartObject();
                    writer.WriteStartObject("inputs");
                    foreach (var (id, value) in values.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        writer.WriteString(id, value);
                    }

                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, Path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
