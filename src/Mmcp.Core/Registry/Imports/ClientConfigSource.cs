using System.Text.Json;
using System.Text.RegularExpressions;
using Mmcp.Core.Manifests;

namespace Mmcp.Core.Registry.Imports;

/// <summary>
/// Imports, read only, the server list of an MCP client's configuration file: Claude Desktop and Cursor
/// (<c>mcpServers</c>) or VS Code (<c>servers</c> and <c>inputs</c>).
/// </summary>
/// <remarks>
/// Each entry becomes a server whose id is its key normalised by <see cref="ServerIds.FromConfigKey"/>. Entries with
/// <c>"disabled": true</c> are skipped. <c>${workspaceFolder}</c> and <c>${userHome}</c> are substituted when read;
/// <c>${env:NAME}</c> and <c>${input:ID}</c> are kept and resolved when the server starts (an input's value comes from
/// the environment variable <c>MMCP_INPUT_&lt;ID&gt;</c>, else from the <see cref="InputStore"/> that
/// <c>mmcp config inputs set ID</c> writes).
/// </remarks>
public sealed partial class ClientConfigSource : IServerSource
{
    private readonly string? _workspaceFolder;
    private readonly string _homeDirectory;

    /// <summary>Initializes a new instance of the <see cref="ClientConfigSource"/> class.</summary>
    /// <param name="kind">Which client wrote the file: <see cref="ServerSourceKind.ClaudeDesktop"/>, <see cref="ServerSourceKind.VsCode"/> or <see cref="ServerSourceKind.Cursor"/>.</param>
    /// <param name="path">The configuration file (it need not exist).</param>
    /// <param name="homeDirectory">The user's home directory, for <c>${userHome}</c>.</param>
    /// <param name="workspaceFolder">The workspace the file belongs to, for <c>${workspaceFolder}</c>, or <see langword="null"/> for a user-level file.</param>
    public ClientConfigSource(ServerSourceKind kind, string path, string homeDirectory, string? workspaceFolder = null)
    {
        if (kind is not (ServerSourceKind.ClaudeDesktop or ServerSourceKind.VsCode or ServerSourceKind.Cursor))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only Claude Desktop, VS Code and Cursor configuration files are supported.");
        }

        ArgumentException.ThrowIfNullOrEmpty(path);
        Kind = kind;
        Path = System.IO.Path.GetFullPath(path);
        _homeDirectory = homeDirectory;
        _workspaceFolder = workspaceFolder;
    }

    /// <summary>Gets the configuration file.</summary>
    public string Path { get; }

    /// <summary>Gets the workspace the file belongs to, or <see langword="null"/> for a user-level file.</summary>
    public string? WorkspaceFolder => _workspaceFolder;

    /// <inheritdoc/>
    public ServerSourceKind Kind { get; }

    /// <inheritdoc/>
    public string DisplayName => Path;

    /// <inheritdoc/>
    public IReadOnlyList<string> WatchPaths => [Path];

    private string ServersProperty => Kind == ServerSourceKind.VsCode ? "servers" : "mcpServers";

    /// <inheritdoc/>
    public ValueTask<SourceReadResult> ReadAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Read());

    /// <summary>Reads the file synchronously.</summary>
    /// <returns>The imported servers and diagnostics.</returns>
    public SourceReadResult Read()
    {
        var diagnostics = new List<ManifestDiagnostic>();
        using var document = ConfigFile.TryRead(Path, diagnostics);
        if (document is null)
        {
            return new SourceReadResult([], diagnostics);
        }

        var r = new JsonObjectReader(Path, diagnostics);
        var root = r.Properties(document.RootElement, string.Empty, known: null);
        if (root is null || !root.TryGetValue(ServersProperty, out var serversElement) || serversElement.ValueKind == JsonValueKind.Null)
        {
            return new SourceReadResult([], diagnostics);
        }

        var inputs = Kind == ServerSourceKind.VsCode ? ReadInputs(root, r) : new Dictionary<string, bool>(StringComparer.Ordinal);
        var servers = r.Properties(serversElement, ServersProperty, known: null);
        if (servers is null)
        {
            return new SourceReadResult([], diagnostics);
        }

        var result = new List<SourcedManifest>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, entry) in servers)
        {
            var field = JsonObjectReader.Join(ServersProperty, key);
            var errors = r.ErrorCount;
            var manifest = Convert(key, entry, field, r, inputs);
            if (manifest is null || r.ErrorCount != errors)
            {
                continue;
            }

            if (ids.TryGetValue(manifest.Id, out var otherKey))
            {
                r.Error(field, $"becomes server id '{manifest.Id}', which '{otherKey}' already has; rename one of them");
                continue;
            }

            ids.Add(manifest.Id, key);
            result.Add(new SourcedManifest(manifest, new ServerProvenance(Kind, Path, key)));
        }

        return new SourceReadResult(result, diagnostics);
    }

    /// <summary>Reads the inputs a VS Code file declares (<c>inputs</c>); other clients' files declare none.</summary>
    /// <returns>The inputs, in file order.</returns>
    public IReadOnlyList<DeclaredInput> ReadDeclaredInputs()
    {
        var diagnostics = new List<ManifestDiagnostic>();
        using var document = Kind == ServerSourceKind.VsCode ? ConfigFile.TryRead(Path, diagnostics) : null;
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("inputs", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var inputs = new List<DeclaredInput>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                var password = item.TryGetProperty("password", out var p) && p.ValueKind == JsonValueKind.True;
                var description = item.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                inputs.Add(new DeclaredInput(id.GetString()!, password, description, Path));
            }
        }

        return inputs;
    }

    private static Dictionary<string, bool> ReadInputs(Dictionary<string, JsonElement> root, JsonObjectReader r)
    {
        var inputs = new Dictionary<string, bool>(StringComparer.Ordinal);
        if (!root.TryGetValue("inputs", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return inputs;
        }

        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var obj = r.Properties(item, JsonObjectReader.Index("inputs", i++), known: null);
            if (obj is not null && obj.TryGetValue("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                inputs[id.GetString()!] = obj.TryGetValue("password", out var password) && password.ValueKind == JsonValueKind.True;
            }
        }

        return inputs;
    }

    private ServerManifest? Convert(string key, JsonElement entry, string field, JsonObjectReader r, Dictionary<string, bool> inputs)
    {
        var obj = r.Properties(entry, field, known: null);
        if (obj is null)
        {
            return null;
        }

        if (r.Boolean(obj, "disabled", field) == true)
        {
            return null;
        }

        var type = r.String(obj, "type", field, required: false)?.ToLowerInvariant();
        var url = r.String(obj, "url", field, required: false) ?? r.String(obj, "serverUrl", field, required: false);
        var command = r.String(obj, "command", field, required: false);
        ServerTransport? transport;
        if (command is not null && (type is null or "stdio"))
        {
            var env = r.StringMap(obj, "env", field, StringComparer.Ordinal);
            if (r.String(obj, "envFile", field, required: false) is { } envFile)
            {
                var envPath = Substitute(envFile);
                if (ConfigFile.TryReadEnvFile(System.IO.Path.GetFullPath(envPath, _workspaceFolder ?? _homeDirectory), JsonObjectReader.Join(field, "envFile"), Path, r.Diagnostics) is { } fromFile)
                {
                    foreach (var (name, value) in fromFile)
                    {
                        env.TryAdd(name, value); // explicit env wins over the file, as in VS Code
                    }
                }
            }

            var args = r.StringArray(obj, "args", field).Select(Substitute).ToArray();
            var cwd = r.String(obj, "cwd", field, required: false) is { } c ? Substitute(c) : _workspaceFolder;
            transport = new StdioTransport
            {
                Command = Substitute(command),
                Args = args,
                Env = env.ToDictionary(p => p.Key, p => Substitute(p.Value), StringComparer.Ordinal),
                Cwd = cwd,
            };
        }
        else if (url is not null && type is null or "http" or "sse" or "streamable-http" or "streamablehttp")
        {
            var resolved = Substitute(url!);
            if (!Uri.TryCreate(resolved, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                r.Error(JsonObjectReader.Join(field, "url"), $"'{resolved}' is not an absolute http:// or https:// URL");
                return null;
            }

            var headers = r.StringMap(obj, "headers", field, StringComparer.OrdinalIgnoreCase);
            transport = new HttpTransport
            {
                Url = uri,
                Headers = headers.ToDictionary(p => p.Key, p => Substitute(p.Value), StringComparer.OrdinalIgnoreCase),
                LegacySse = type == "sse",
            };
        }
        else if (type is not null and not ("stdio" or "http" or "sse" or "streamable-http" or "streamablehttp"))
        {
            r.Error(JsonObjectReader.Join(field, "type"), $"'{type}' is not a transport this hub can import; use 'stdio', 'http' or 'sse'");
            return null;
        }
        else
        {
            r.Error(field, "has neither 'command' (a stdio server) nor 'url' (an HTTP server)");
            return null;
        }

        if (transport is StdioTransport stdio && RunsMmcpGateway(stdio))
        {
            // The entry that puts this hub into the client (mmcp stdio): importing it would make the hub start itself,
            // and that copy would start another, without end.
            r.Warning(field, "runs the Mmcp gateway itself ('mmcp stdio'); not imported, so the hub does not start itself");
            return null;
        }

        foreach (Match match in InputReference().Matches(string.Join('\n', EnumerateValues(transport))))
        {
            var id = match.Groups[1].Value;
            var variable = InputVariable(id);
            var secret = inputs.TryGetValue(id, out var password) && password ? " (a password)" : string.Empty;
            r.Warning(field, $"uses input '{id}'{secret}; give it a value with 'mmcp config inputs set {id}' (stored privately) or the environment variable {variable}");
        }

        return new ServerManifest
        {
            Id = ServerIds.FromConfigKey(key),
            Name = key,
            Description = r.String(obj, "description", field, required: false) ?? $"'{key}' imported from {new ServerProvenance(Kind, Path)}",
            Version = "unversioned",
            Transport = transport,
        };
    }

    /// <summary>The environment variable that supplies the value of a VS Code input (<c>${input:ID}</c>).</summary>
    /// <param name="inputId">The input id.</param>
    /// <returns>The variable name, <c>MMCP_INPUT_</c> followed by the id in upper case with other characters as <c>_</c>.</returns>
    public static string InputVariable(string inputId)
    {
        ArgumentNullException.ThrowIfNull(inputId);
        var chars = inputId.ToUpperInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        return "MMCP_INPUT_" + new string(chars);
    }

    /// <summary>Whether <paramref name="stdio"/> starts <c>mmcp stdio</c> (as <c>mmcp</c>, <c>mmcp.exe</c>, <c>dotnet …/mmcp.dll</c>,
    /// or through a launcher such as <c>dnx</c> or <c>npx</c>).</summary>
    internal static bool RunsMmcpGateway(StdioTransport stdio)
    {
        string[] words = [stdio.Command, .. stdio.Args];
        for (var i = 0; i < words.Length; i++)
        {
            var name = System.IO.Path.GetFileName(words[i].TrimEnd('/', '\\'));
            if (name.Equals("mmcp", StringComparison.OrdinalIgnoreCase) || name.Equals("mmcp.exe", StringComparison.OrdinalIgnoreCase)
                || name.Equals("mmcp.dll", StringComparison.OrdinalIgnoreCase))
            {
                return words.Skip(i + 1).Any(w => w.Equals("stdio", StringComparison.Ordinal));
            }
        }

        return false;
    }

    private static IEnumerable<string> EnumerateValues(ServerTransport transport) => transport switch
    {
        StdioTransport s => [s.Command, .. s.Args, .. s.Env.Values],
        HttpTransport h => [h.Url.OriginalString, .. h.Headers.Values],
        _ => [],
    };

    private string Substitute(string value)
    {
        if (!value.Contains("${", StringComparison.Ordinal))
        {
            return value;
        }

        value = value.Replace("${userHome}", _homeDirectory, StringComparison.Ordinal);
        if (_workspaceFolder is not null)
        {
            value = value.Replace("${workspaceFolder}", _workspaceFolder, StringComparison.Ordinal);
        }

        return value;
    }

    [GeneratedRegex(@"\$\{input:([^}]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex InputReference();
}

/// <summary>An input a VS Code configuration declares.</summary>
/// <param name="Id">The input id (<c>${input:ID}</c>).</param>
/// <param name="Password">Whether VS Code would ask for it without echo.</param>
/// <param name="Description">The prompt text, or <see langword="null"/>.</param>
/// <param name="File">The configuration file that declares it.</param>
public sealed record DeclaredInput(string Id, bool Password, string? Description, string File);
