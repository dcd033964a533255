using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using Shared.Storage;

namespace Mmcp.Core.Manifests;

/// <summary>Writes manifests as indented UTF-8 JSON, and to files atomically.</summary>
public static class ManifestWriter
{
    /// <summary>The <c>$schema</c> URI written into every manifest.</summary>
    public const string SchemaUri = "https://mmcp.dev/schemas/manifest.v1.schema.json";

    /// <summary>Serializes a manifest to UTF-8 JSON.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The JSON bytes (indented, with a trailing newline).</returns>
    public static byte[] ToUtf8Bytes(ServerManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        using var buffer = new MemoryStream();
        // Relaxed escaping keeps manifests readable ("server's", not "server\u0027s"); they are files, never HTML.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, manifest);
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Serializes a manifest to a JSON string.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The JSON text.</returns>
    public static string ToJson(ServerManifest manifest) => System.Text.Encoding.UTF8.GetString(ToUtf8Bytes(manifest));

    /// <summary>Writes a manifest file atomically: a temporary file in the same directory, flushed, then renamed over the target.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="path">The target file.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the file is in place.</returns>
    public static async Task WriteFileAsync(ServerManifest manifest, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = ToUtf8Bytes(manifest);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            FileCleanup.TryDelete(temp);
            throw;
        }
    }

    private static void Write(Utf8JsonWriter w, ServerManifest m)
    {
        w.WriteStartObject();
        w.WriteString("$schema", SchemaUri);
        w.WriteNumber("manifestVersion", m.ManifestVersion);
        w.WriteString("id", m.Id);
        w.WriteString("name", m.Name);
        w.WriteString("description", m.Description);
        w.WriteString("version", m.Version);
        WriteStrings(w, "categories", m.Categories);
        WriteStrings(w, "permissions", m.Permissions);
        if (m.ProtocolVersion is not null)
        {
            w.WriteString("protocolVersion", m.ProtocolVersion);
        }

        w.WritePropertyName("transport");
        w.WriteStartObject();
        w.WriteString("type", m.Transport.Type);
        switch (m.Transport)
        {
            case SocketTransport socket:
                w.WriteString("path", socket.Path);
                break;
            case StdioTransport stdio:
                WriteProcess(w, stdio.Command, stdio.Args, stdio.Env, stdio.Cwd);
                break;
            case HttpTransport http:
                w.WriteString("url", http.Url.OriginalString);
                WriteMap(w, "headers", http.Headers);
                if (http.LegacySse)
                {
                    w.WriteBoolean("legacySse", true);
                }

                if (http.OAuth is { } oauth)
                {
                    w.WriteStartObject("oauth");
                    WriteOptional(w, "clientId", oauth.ClientId);
                    WriteOptional(w, "clientSecret", oauth.ClientSecret);
                    WriteStrings(w, "scopes", oauth.Scopes);

                    WriteOptional(w, "clientMetadataUrl", oauth.ClientMetadataUrl?.OriginalString);
                    if (oauth.RedirectPort is { } port)
                    {
                        w.WriteNumber("redirectPort", port);
                    }

                    w.WriteEndObject();
                }

                break;
        }

        w.WriteEndObject();

        if (m.Launch is { } launch)
        {
            w.WritePropertyName("launch");
            w.WriteStartObject();
            WriteProcess(w, launch.Command, launch.Args, launch.Env, launch.Cwd);
            w.WriteEndObject();
        }

        if (m.Timeouts is { } t)
        {
            w.WritePropertyName("timeouts");
            w.WriteStartObject();
            WriteMs(w, "launchMs", t.Launch);
            WriteMs(w, "handshakeMs", t.Handshake);
            WriteMs(w, "callMs", t.Call);
            WriteMs(w, "idleMs", t.Idle);
            w.WriteEndObject();
        }

        if (m.Capabilities is { } caps)
        {
            w.WritePropertyName("capabilities");
            w.WriteStartObject();
            WriteList(w, "tools", caps.Tools);
            WriteList(w, "resources", caps.Resources);
            WriteList(w, "resourceTemplates", caps.ResourceTemplates);
            WriteList(w, "prompts", caps.Prompts);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteProcess(Utf8JsonWriter w, string command, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env, string? cwd)
    {
        w.WriteString("command", command);
        WriteStrings(w, "args", args);
        WriteMap(w, "env", env);
        if (cwd is not null)
        {
            w.WriteString("cwd", cwd);
        }
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteMs(Utf8JsonWriter w, string name, TimeSpan? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, (long)v.TotalMilliseconds);
        }
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        w.WritePropertyName(name);
        w.WriteStartArray();
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    private static void WriteMap(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        w.WritePropertyName(name);
        w.WriteStartObject();
        foreach (var (key, value) in values.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteString(key, value);
        }

        w.WriteEndObject();
    }

    private static void WriteList<T>(Utf8JsonWriter w, string name, IReadOnlyList<T> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        var typeInfo = (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));
        w.WritePropertyName(name);
        w.WriteStartArray();
        foreach (var item in items)
        {
            JsonSerializer.Serialize(w, item, typeInfo);
        }

        w.WriteEndArray();
    }
}
