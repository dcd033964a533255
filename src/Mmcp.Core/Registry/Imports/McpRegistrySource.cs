using System.Text.Json;
using Mmcp.Core.Manifests;

namespace Mmcp.Core.Registry.Imports;

/// <summary>
/// Imports MCP Registry <c>server.json</c> documents (schema 2025-12-11) from a directory of <c>*.json</c> files or
/// from one file.
/// </summary>
/// <remarks>
/// The first package with a stdio transport and a supported registry type becomes a stdio server started with its
/// runtime (npm → <c>npx -y</c>, PyPI → <c>uvx</c>, NuGet → <c>dnx</c>, OCI → <c>docker run -i --rm</c>); otherwise the
/// first remote becomes an HTTP server. Required variables without a value become <c>${input:NAME}</c> references,
/// supplied at start time through <c>MMCP_INPUT_NAME</c>. Commands are never run through a shell.
/// </remarks>
public sealed class McpRegistrySource : IServerSource
{
    private readonly string _path;

    /// <summary>Initializes a new instance of the <see cref="McpRegistrySource"/> class.</summary>
    /// <param name="path">A <c>server.json</c> file, or a directory of them (it need not exist).</param>
    public McpRegistrySource(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
    }

    /// <inheritdoc/>
    public ServerSourceKind Kind => ServerSourceKind.McpRegistry;

    /// <inheritdoc/>
    public string DisplayName => _path;

    /// <inheritdoc/>
    public IReadOnlyList<string> WatchPaths => [_path];

    /// <inheritdoc/>
    public ValueTask<SourceReadResult> ReadAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Read());

    /// <summary>Reads the file or directory synchronously.</summary>
    /// <returns>The imported servers and diagnostics.</returns>
    public SourceReadResult Read()
    {
        var diagnostics = new List<ManifestDiagnostic>();
        var servers = new List<SourcedManifest>();
        IEnumerable<string> files;
        if (Directory.Exists(_path))
        {
            try
            {
                files = Directory.GetFiles(_path, "*.json").Order(StringComparer.Ordinal).ToArray();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return new SourceReadResult([], [new ManifestDiagnostic(_path, string.Empty, $"cannot be listed: {ex.Message}")]);
            }
        }
        else
        {
            files = File.Exists(_path) ? [_path] : [];
        }

        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            using var document = ConfigFile.TryRead(file, diagnostics);
            if (document is null)
            {
                continue;
            }

            var r = new JsonObjectReader(file, diagnostics);
            var errors = r.ErrorCount;
            var manifest = Convert(document.RootElement, r);
            if (manifest is null || r.ErrorCount != errors)
            {
                continue;
            }

            if (ids.TryGetValue(manifest.Id, out var other))
            {
                r.Error("name", $"becomes server id '{manifest.Id}', which {other} already has; this file is ignored");
                continue;
            }

            ids.Add(manifest.Id, file);
            servers.Add(new SourcedManifest(manifest, new ServerProvenance(ServerSourceKind.McpRegistry, file)));
        }

        return new SourceReadResult(servers, diagnostics);
    }

    /// <summary>Converts one <c>server.json</c> document.</summary>
    internal static ServerManifest? Convert(JsonElement root, JsonObjectReader r)
    {
        var obj = r.Properties(root, string.Empty, known: null);
        if (obj is null)
        {
            return null;
        }

        var name = r.String(obj, "name", string.Empty, required: true, maxLength: 200);
        var description = r.String(obj, "description", string.Empty, required: true);
        var version = r.String(obj, "version", string.Empty, required: true, maxLength: 64);
        if (name is null || description is null || version is null)
        {
            return null;
        }

        if (!name.Contains('/', StringComparison.Ordinal))
        {
            r.Error("name", $"'{name}' is not a registry name of the form 'namespace/name'");
            return null;
        }

        var transport = (ServerTransport?)FromPackages(obj, r) ?? FromRemotes(obj, r);
        if (transport is null)
        {
            r.Error(string.Empty, "has no package with a stdio transport of a supported registry type (npm, pypi, nuget, oci) and no remote");
            return null;
        }

        return new ServerManifest
        {
            Id = ServerIds.FromConfigKey(name.Replace('/', '.')),
            Name = r.String(obj, "title", string.Empty, required: false) ?? name,
            Description = description,
            Version = version,
            Transport = transport,
        };
    }

    private static StdioTransport? FromPackages(Dictionary<string, JsonElement> obj, JsonObjectReader r)
    {
        if (!obj.TryGetValue("packages", out var packages) || packages.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var index = 0;
        foreach (var element in packages.EnumerateArray())
        {
            var field = JsonObjectReader.Index("packages", index++);
            var package = r.Properties(element, field, known: null);
            if (package is null)
            {
                continue;
            }

            var transportType = package.TryGetValue("transport", out var t) && t.ValueKind == JsonValueKind.Object && t.TryGetProperty("type", out var tt) ? tt.GetString() : "stdio";
            if (transportType != "stdio")
            {
                continue;
            }

            var registryType = r.String(package, "registryType", field, required: true);
            var identifier = r.String(package, "identifier", field, required: true);
            var packageVersion = r.String(package, "version", field, required: false);
            if (registryType is null || identifier is null)
            {
                continue;
            }

            var runtimeArgs = Arguments(package, "runtimeArguments", field, r);
            var packageArgs = Arguments(package, "packageArguments", field, r);
            var env = EnvironmentVariables(package, field, r);
            var versioned = packageVersion is null ? identifier : null;
            (string Command, List<string> Args)? launch = registryType switch
            {
                "npm" => ("npx", ["-y", .. runtimeArgs, versioned ?? $"{identifier}@{packageVersion}", .. packageArgs]),
                "pypi" => ("uvx", [.. runtimeArgs, versioned ?? $"{identifier}=={packageVersion}", .. packageArgs]),
                "nuget" => ("dnx", [.. runtimeArgs, versioned ?? $"{identifier}@{packageVersion}", "--yes", "--", .. packageArgs]),
                "oci" => ("docker", ["run", "-i", "--rm", .. env.Keys.SelectMany(k => new[] { "-e", k }), .. runtimeArgs, versioned ?? (identifier.Contains(':', StringComparison.Ordinal) ? identifier : $"{identifier}:{packageVersion}"), .. packageArgs]),
                _ => null,
            };
            if (launch is null)
            {
                r.Warning(JsonObjectReader.Join(field, "registryType"), $"'{registryType}' packages cannot be started by this hub; supported: npm, pypi, nuget, oci");
                continue;
            }

            var command = r.String(package, "runtimeHint", field, required: false) is { } hint && registryType != "oci" ? hint : launch.Value.Command;
            return new StdioTransport { Command = command, Args = launch.Value.Args, Env = env };
        }

        return null;
    }

    private static HttpTransport? FromRemotes(Dictionary<string, JsonElement> obj, JsonObjectReader r)
    {
        if (!obj.TryGetValue("remotes", out var remotes) || remotes.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var index = 0;
        foreach (var element in remotes.EnumerateArray())
        {
            var field = JsonObjectReader.Index("remotes", index++);
            var remote = r.Properties(element, field, known: null);
            if (remote is null)
            {
                continue;
            }

            var type = r.String(remote, "type", field, required: true);
            var url = r.String(remote, "url", field, required: true);
            if (type is not ("streamable-http" or "sse") || url is null)
            {
                continue;
            }

            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                r.Error(JsonObjectReader.Join(field, "url"), $"'{url}' is not an absolute http:// or https:// URL");
                continue;
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (headerName, value) in NamedValues(remote, "headers", field, r))
            {
                headers[headerName] = value;
            }

            return new HttpTransport { Url = uri, Headers = headers, LegacySse = type == "sse" };
        }

        return null;
    }

    private static List<string> Arguments(Dictionary<string, JsonElement> package, string property, string field, JsonObjectReader r)
    {
        var args = new List<string>();
        if (!package.TryGetValue(property, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return args;
        }

        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var itemField = JsonObjectReader.Index(JsonObjectReader.Join(field, property), i++);
            var arg = r.Properties(item, itemField, known: null);
            if (arg is null)
            {
                continue;
            }

            var type = r.String(arg, "type", itemField, required: false) ?? "positional";
            var name = r.String(arg, "name", itemField, required: type == "named");
            var value = Value(arg, itemField, r, name ?? r.String(arg, "valueHint", itemField, required: false) ?? $"arg{i}");
            if (type == "named" && name is not null)
            {
                if (value is null)
                {
                    continue;
                }

                args.Add(name);
                args.Add(value);
            }
            else if (value is not null)
            {
                args.Add(value);
            }
        }

        return args;
    }

    private static Dictionary<string, string> EnvironmentVariables(Dictionary<string, JsonElement> package, string field, JsonObjectReader r)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in NamedValues(package, "environmentVariables", field, r))
        {
            env[name] = value;
        }

        return env;
    }

    private static IEnumerable<(string Name, string Value)> NamedValues(Dictionary<string, JsonElement> obj, string property, string field, JsonObjectReader r)
    {
        if (!obj.TryGetValue(property, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var itemField = JsonObjectReader.Index(JsonObjectReader.Join(field, property), i++);
            var entry = r.Properties(item, itemField, known: null);
            var name = entry is null ? null : r.String(entry, "name", itemField, required: true);
            if (entry is null || name is null)
            {
                continue;
            }

            if (Value(entry, itemField, r, name) is { } value)
            {
                yield return (name, value);
            }
        }
    }

    /// <summary>The value of an argument, variable or header: its value, else its default, else an input reference when required.</summary>
    private static string? Value(Dictionary<string, JsonElement> entry, string field, JsonObjectReader r, string inputId)
    {
        var value = r.String(entry, "value", field, required: false, allowEmpty: true) ?? r.String(entry, "default", field, required: false, allowEmpty: true);
        if (value is not null)
        {
            return value;
        }

        return r.Boolean(entry, "isRequired", field) == true ? $"${{input:{inputId}}}" : null;
    }
}
