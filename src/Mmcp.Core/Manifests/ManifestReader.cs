using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Core.Manifests;

/// <summary>
/// Reads and validates manifests. Every problem is reported with the file, the JSON path of the field and the reason;
/// reading never throws for bad input.
/// </summary>
public static partial class ManifestReader
{
    /// <summary>The largest manifest file accepted, in bytes (1 MiB).</summary>
    public const int MaxManifestBytes = 1 << 20;

    /// <summary>The deepest JSON nesting accepted.</summary>
    public const int MaxDepth = 64;

    internal static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    private static readonly HashSet<string> TopLevelFields = ["$schema", "manifestVersion", "id", "name", "description", "version", "categories", "permissions", "transport", "launch", "capabilities", "protocolVersion", "timeouts"];
    private static readonly HashSet<string> SocketFields = ["type", "path"];
    private static readonly HashSet<string> StdioFields = ["type", "command", "args", "env", "cwd"];
    private static readonly HashSet<string> HttpFields = ["type", "url", "headers", "legacySse", "oauth"];
    private static readonly HashSet<string> OAuthFields = ["clientId", "clientSecret", "scopes", "clientMetadataUrl", "redirectPort"];
    private static readonly HashSet<string> LaunchFields = ["command", "args", "env", "cwd"];
    private static readonly HashSet<string> TimeoutFields = ["launchMs", "handshakeMs", "callMs", "idleMs"];
    private static readonly HashSet<string> CapabilityFields = ["tools", "resources", "resourceTemplates", "prompts"];
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];
    private static readonly string[] KnownProtocolVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];

    /// <summary>Reads a manifest file. Files larger than <see cref="MaxManifestBytes"/> are refused.</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The manifest when valid, and the diagnostics.</returns>
    public static ManifestReadResult ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1, FileOptions.None);
            if (stream.Length > MaxManifestBytes)
            {
                return Fail(path, $"the file is {stream.Length} bytes; manifests are limited to {MaxManifestBytes} bytes");
            }

            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail(path, $"cannot be read: {ex.Message}");
        }

        return Read(bytes, path);
    }

    /// <summary>Reads a manifest from UTF-8 JSON.</summary>
    /// <param name="utf8Json">The manifest text.</param>
    /// <param name="file">The file name used in diagnostics.</param>
    /// <returns>The manifest when valid, and the diagnostics.</returns>
    public static ManifestReadResult Read(ReadOnlyMemory<byte> utf8Json, string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (utf8Json.Length > MaxManifestBytes)
        {
            return Fail(file, $"the manifest is {utf8Json.Length} bytes; manifests are limited to {MaxManifestBytes} bytes");
        }

        if (!System.Text.Unicode.Utf8.IsValid(utf8Json.Span))
        {
            return Fail(file, "is not valid UTF-8 text; save the file as UTF-8");
        }

        // Editors on Windows often save UTF-8 with a byte-order mark, which the JSON parser does not skip.
        if (utf8Json.Span.StartsWith(Utf8Bom))
        {
            utf8Json = utf8Json[Utf8Bom.Length..];
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            return new ManifestReadResult(null, [new ManifestDiagnostic(file, string.Empty, $"is not valid JSON: {StripPosition(ex.Message)}", DiagnosticSeverity.Error, ex.LineNumber + 1)]);
        }

        using (document)
        {
            var diagnostics = new List<ManifestDiagnostic>();
            var manifest = new Parser(file, diagnostics).Parse(document.RootElement);
            var valid = !diagnostics.Exists(d => d.Severity == DiagnosticSeverity.Error);
            return new ManifestReadResult(valid ? manifest : null, diagnostics);
        }
    }

    /// <summary>Reads a manifest from a JSON string.</summary>
    /// <param name="json">The manifest text.</param>
    /// <param name="file">The file name used in diagnostics.</param>
    /// <returns>The manifest when valid, and the diagnostics.</returns>
    public static ManifestReadResult Read(string json, string file)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Read(System.Text.Encoding.UTF8.GetBytes(json), file);
    }

    internal static ManifestReadResult Fail(string file, string message) => new(null, [new ManifestDiagnostic(file, string.Empty, message)]);

    internal static string StripPosition(string message)
    {
        var at = message.IndexOf(" Path:", StringComparison.Ordinal);
        return at > 0 ? message[..at] : message;
    }

    /// <summary>Validates an MCP tool name (1–128 characters of <c>[A-Za-z0-9_.-]</c>).</summary>
    /// <param name="name">The tool name.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidToolName(string? name) => name is { Length: > 0 and <= 128 } && ToolNameRegex().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9_.-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ToolNameRegex();

    [GeneratedRegex(@"^\$\{(env|input):[^}\s]+\}$", RegexOptions.CultureInvariant)]
    private static partial Regex SecretReferenceRegex();

    private sealed class Parser
    {
        private readonly JsonObjectReader _r;

        public Parser(string file, List<ManifestDiagnostic> diagnostics) => _r = new JsonObjectReader(file, diagnostics);

        public ServerManifest? Parse(JsonElement root)
        {
            var obj = _r.Properties(root, string.Empty, TopLevelFields);
            if (obj is null)
            {
                return null;
            }

            var manifestVersion = _r.Integer(obj, "manifestVersion", string.Empty, 1, int.MaxValue) ?? ServerManifest.CurrentManifestVersion;
            if (manifestVersion > ServerManifest.CurrentManifestVersion)
            {
                _r.Error("manifestVersion", $"is {manifestVersion}, but this hub reads manifest version {ServerManifest.CurrentManifestVersion}; update Mmcp");
            }

            var id = _r.String(obj, "id", string.Empty, required: true, maxLength: ServerIds.MaxLength + 64);
            if (id is not null && ServerIds.ExplainManifestId(id) is { } idProblem)
            {
                _r.Error("id", idProblem);
            }

            var name = _r.String(obj, "name", string.Empty, required: true, maxLength: 200);
            var description = _r.String(obj, "description", string.Empty, required: true, maxLength: 4000);
            var version = _r.String(obj, "version", string.Empty, required: true, maxLength: 64);
            if (version is not null && version.Any(char.IsWhiteSpace))
            {
                _r.Error("version", $"'{version}' must not contain spaces; use a version such as '1.2.0'");
            }

            var categories = _r.StringArray(obj, "categories", string.Empty, maxItems: 32, maxLength: 64);
            var permissions = _r.StringArray(obj, "permissions", string.Empty, maxItems: 64, maxLength: 128);
            var protocolVersion = _r.String(obj, "protocolVersion", string.Empty, required: false, maxLength: 32);
            if (protocolVersion is not null && !KnownProtocolVersions.Contains(protocolVersion, StringComparer.Ordinal))
            {
                _r.Error("protocolVersion", $"'{protocolVersion}' is not an MCP protocol version; use one of {string.Join(", ", KnownProtocolVersions)}");
            }

            ServerTransport? transport = null;
            if (!obj.TryGetValue("transport", out var transportElement))
            {
                _r.Error("transport", "is required: add {\"type\":\"socket\",\"path\":…}, {\"type\":\"stdio\",\"command\":…} or {\"type\":\"http\",\"url\":…}");
            }
            else
            {
                transport = ParseTransport(transportElement);
            }

            var launch = obj.TryGetValue("launch", out var launchElement) && launchElement.ValueKind != JsonValueKind.Null ? ParseLaunch(launchElement) : null;
            if (launch is not null && transport is not null and not SocketTransport)
            {
                _r.Warning("launch", $"is only used with the socket transport; a {transport.Type} server is started by its transport");
            }

            var timeouts = obj.TryGetValue("timeouts", out var timeoutsElement) && timeoutsElement.ValueKind != JsonValueKind.Null ? ParseTimeouts(timeoutsElement) : null;
            var capabilities = obj.TryGetValue("capabilities", out var capabilitiesElement) && capabilitiesElement.ValueKind != JsonValueKind.Null ? ParseCapabilities(capabilitiesElement) : null;

            if (_r.HasErrors || id is null || name is null || description is null || version is null || transport is null)
            {
                return null;
            }

            return new ServerManifest
            {
                ManifestVersion = manifestVersion,
                Id = id,
                Name = name,
                Description = description,
                Version = version,
                Categories = categories,
                Permissions = permissions,
                Transport = transport,
                Launch = launch,
                ProtocolVersion = protocolVersion,
                Timeouts = timeouts,
                Capabilities = capabilities,
            };
        }

        /// <summary>Reads <c>transport.oauth</c>: a pre-registered client (its secret only as a reference), scopes, a client ID metadata document, a fixed redirect port.</summary>
        private OAuthClientSettings? ParseOAuth(JsonElement element, Dictionary<string, string> headers)
        {
            const string Path = "transport.oauth";
            var obj = _r.Properties(element, Path, OAuthFields);
            if (obj is null)
            {
                return null;
            }

            var clientId = _r.String(obj, "clientId", Path, required: false, maxLength: 2048);
            var secret = _r.String(obj, "clientSecret", Path, required: false, maxLength: 512);
            var scopes = _r.StringArray(obj, "scopes", Path, maxItems: 64, maxLength: 256);
            var metadata = _r.String(obj, "clientMetadataUrl", Path, required: false, maxLength: 2048);
            var port = _r.Integer(obj, "redirectPort", Path, 1024, 65535);
            var errors = _r.ErrorCount;
            if (secret is not null && !SecretReferenceRegex().IsMatch(secret))
            {
                // The value is never repeated: it may be the secret itself.
                _r.Error(Path + ".clientSecret", "must be a reference to the secret, ${env:NAME} or ${input:ID} (stored with 'mmcp inputs set ID'), never the secret itself (the value is not shown here); move the secret out of the file");
            }

            if (secret is not null && clientId is null)
            {
                _r.Error(Path + ".clientSecret", "needs 'clientId': a secret belongs to a client registered at the authorization server");
            }

            for (var i = 0; i < scopes.Count; i++)
            {
                if (scopes[i].Length == 0 || scopes[i].Any(char.IsWhiteSpace))
                {
                    _r.Error(JsonObjectReader.Index(Path + ".scopes", i), $"'{scopes[i]}' is not a scope: write one scope per item, without spaces");
                }
            }

            Uri? metadataUrl = null;
            if (metadata is not null)
            {
                if (!Uri.TryCreate(metadata, UriKind.Absolute, out metadataUrl) || metadataUrl.Scheme != "https" || metadataUrl.AbsolutePath.Length <= 1 || metadataUrl.Fragment.Length > 0)
                {
                    _r.Error(Path + ".clientMetadataUrl", $"'{metadata}' is not a client ID metadata document URL: it must be https with a path (for example https://example.com/mmcp/client.json)");
                    metadataUrl = null;
                }
                else if (clientId is not null)
                {
                    _r.Error(Path + ".clientMetadataUrl", "cannot be used with 'clientId': the document's URL is the client id; keep one of them");
                }
            }

            if (headers.ContainsKey("Authorization"))
            {
                _r.Error(Path, "cannot be used with an 'Authorization' header: that header is sent as is and OAuth is never used; remove one of them");
            }

            return _r.ErrorCount > errors ? null : new OAuthClientSettings { ClientId = clientId, ClientSecret = secret, Scopes = scopes, ClientMetadataUrl = metadataUrl, RedirectPort = port };
        }

        private ServerTransport? ParseTransport(JsonElement element)
        {
            const string Path = "transport";
            if (element.ValueKind != JsonValueKind.Object)
            {
                _r.Error(Path, $"must be an object such as {{\"type\":\"socket\",\"path\":\"app.sock\"}}, not {JsonObjectReader.Describe(element)}");
                return null;
            }

            var type = element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case SocketTransport.TypeName:
                    {
                        var obj = _r.Properties(element, Path, SocketFields)!;
                        var path = _r.String(obj, "path", Path, required: true, maxLength: 4096);
                        if (path is not null && System.IO.Path.IsPathRooted(path) && System.Text.Encoding.UTF8.GetByteCount(path) > RegistryLimits.MaxUnixSocketPathBytes)
                        {
                            _r.Error("transport.path", $"is {System.Text.Encoding.UTF8.GetByteCount(path)} bytes; Unix socket paths are limited to {RegistryLimits.MaxUnixSocketPathBytes} bytes: use a short relative name, resolved in the Mmcp runtime directory");
                        }

                        return path is null ? null : new SocketTransport { Path = path };
                    }

                case StdioTransport.TypeName:
                    {
                        var obj = _r.Properties(element, Path, StdioFields)!;
                        var command = _r.String(obj, "command", Path, required: true);
                        var args = _r.StringArray(obj, "args", Path);
                        var env = _r.StringMap(obj, "env", Path, StringComparer.Ordinal);
                        var cwd = _r.String(obj, "cwd", Path, required: false);
                        return command is null ? null : new StdioTransport { Command = command, Args = args, Env = env, Cwd = cwd };
                    }

                case HttpTransport.TypeName:
                    {
                        var obj = _r.Properties(element, Path, HttpFields)!;
                        var url = _r.String(obj, "url", Path, required: true, maxLength: 8192);
                        var headers = _r.StringMap(obj, "headers", Path, StringComparer.OrdinalIgnoreCase);
                        var legacySse = _r.Boolean(obj, "legacySse", Path) ?? false;
                        Uri? uri = null;
                        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out uri) || uri.Scheme is not ("http" or "https")))
                        {
                            _r.Error("transport.url", $"'{url}' is not an absolute http:// or https:// URL");
                            uri = null;
                        }

                        var oauth = obj.TryGetValue("oauth", out var oauthElement) ? ParseOAuth(oauthElement, headers) : null;
                        return uri is null ? null : new HttpTransport { Url = uri, Headers = headers, LegacySse = legacySse, OAuth = oauth };
                    }

                case null:
                    _r.Error("transport.type", "is required: one of 'socket', 'stdio', 'http'");
                    return null;

                default:
                    _r.Error("transport.type", $"'{type}' is not a transport; use one of 'socket', 'stdio', 'http'");
                    return null;
            }
        }

        private LaunchSpec? ParseLaunch(JsonElement element)
        {
            const string Path = "launch";
            var obj = _r.Properties(element, Path, LaunchFields);
            if (obj is null)
            {
                return null;
            }

            var command = _r.String(obj, "command", Path, required: true);
            var args = _r.StringArray(obj, "args", Path);
            var env = _r.StringMap(obj, "env", Path, StringComparer.Ordinal);
            var cwd = _r.String(obj, "cwd", Path, required: false);
            return command is null ? null : new LaunchSpec { Command = command, Args = args, Env = env, Cwd = cwd };
        }

        private ServerTimeouts? ParseTimeouts(JsonElement element)
        {
            const string Path = "timeouts";
            var obj = _r.Properties(element, Path, TimeoutFields);
            if (obj is null)
            {
                return null;
            }

            const int Day = 24 * 60 * 60 * 1000;
            static TimeSpan? Ms(int? value) => value is { } v ? TimeSpan.FromMilliseconds(v) : null;
            return new ServerTimeouts
            {
                Launch = Ms(_r.Integer(obj, "launchMs", Path, 1, Day)),
                Handshake = Ms(_r.Integer(obj, "handshakeMs", Path, 1, Day)),
                Call = Ms(_r.Integer(obj, "callMs", Path, 1, Day)),
                Idle = Ms(_r.Integer(obj, "idleMs", Path, 1, Day)),
            };
        }

        private CapabilitySnapshot? ParseCapabilities(JsonElement element)
        {
            const string Path = "capabilities";
            var obj = _r.Properties(element, Path, CapabilityFields);
            if (obj is null)
            {
                return null;
            }

            var tools = ParseList<Tool>(obj, "tools", (item, field) =>
            {
                var name = RequireName(item, field, "name");
                if (name is not null && !IsValidToolName(name))
                {
                    _r.Error(JsonObjectReader.Join(field, "name"), $"'{name}' is not a valid MCP tool name: use 1–128 characters of letters, digits, '_', '-' and '.'");
                }

                if (item.TryGetProperty("inputSchema", out var schema))
                {
                    if (schema.ValueKind != JsonValueKind.Object)
                    {
                        _r.Error(JsonObjectReader.Join(field, "inputSchema"), $"must be a JSON Schema object, not {JsonObjectReader.Describe(schema)}");
                    }
                    else if (!schema.TryGetProperty("type", out var schemaType) || schemaType.ValueKind != JsonValueKind.String || schemaType.GetString() != "object")
                    {
                        _r.Error(JsonObjectReader.Join(field, "inputSchema.type"), "must be \"object\" (MCP tool arguments are always an object)");
                    }
                    else
                    {
                        CheckSchema(schema, JsonObjectReader.Join(field, "inputSchema"));
                    }
                }
                else
                {
                    _r.Error(JsonObjectReader.Join(field, "inputSchema"), "is required; use {\"type\":\"object\"} for a tool without arguments");
                }

                if (item.TryGetProperty("outputSchema", out var output) && output.ValueKind == JsonValueKind.Object)
                {
                    CheckSchema(output, JsonObjectReader.Join(field, "outputSchema"));
                }

                return name;
            });
            var resources = ParseList<Resource>(obj, "resources", (item, field) =>
            {
                RequireName(item, field, "name");
                return RequireName(item, field, "uri");
            });
            var templates = ParseList<ResourceTemplate>(obj, "resourceTemplates", (item, field) =>
            {
                RequireName(item, field, "name");
                return RequireName(item, field, "uriTemplate");
            });
            var prompts = ParseList<Prompt>(obj, "prompts", (item, field) => RequireName(item, field, "name"));

            return new CapabilitySnapshot { Tools = tools, Resources = resources, ResourceTemplates = templates, Prompts = prompts };
        }

        /// <summary>
        /// Warns about the JSON Schema mistakes that make LLM APIs refuse a tool (or the whole tool list): a misspelt
        /// <c>type</c>, a subschema that is not an object, a <c>required</c> name that no property has. Warnings, not
        /// errors: the server stays usable, and the hub passes the schema on as the server gives it.
        /// </summary>
        private void CheckSchema(JsonElement schema, string path)
        {
            if (schema.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return;
            }

            if (schema.ValueKind != JsonValueKind.Object)
            {
                _r.Warning(path, $"must be a JSON Schema object, not {JsonObjectReader.Describe(schema)}");
                return;
            }

            if (schema.TryGetProperty("type", out var type))
            {
                if (type.ValueKind == JsonValueKind.Array)
                {
                    var i = 0;
                    foreach (var t in type.EnumerateArray())
                    {
                        CheckSchemaType(t, JsonObjectReader.Index(JsonObjectReader.Join(path, "type"), i++));
                    }
                }
                else
                {
                    CheckSchemaType(type, JsonObjectReader.Join(path, "type"));
                }
            }

            var properties = new List<string>();
            if (schema.TryGetProperty("properties", out var props))
            {
                if (props.ValueKind != JsonValueKind.Object)
                {
                    _r.Warning(JsonObjectReader.Join(path, "properties"), $"must be an object of property schemas, not {JsonObjectReader.Describe(props)}");
                }
                else
                {
                    foreach (var property in props.EnumerateObject())
                    {
                        properties.Add(property.Name);
                        CheckSchema(property.Value, JsonObjectReader.Join(JsonObjectReader.Join(path, "properties"), property.Name));
                    }
                }
            }

            if (schema.TryGetProperty("required", out var required))
            {
                if (required.ValueKind != JsonValueKind.Array)
                {
                    _r.Warning(JsonObjectReader.Join(path, "required"), $"must be an array of property names, not {JsonObjectReader.Describe(required)}");
                }
                else if (props.ValueKind == JsonValueKind.Object)
                {
                    var i = 0;
                    foreach (var name in required.EnumerateArray())
                    {
                        var at = JsonObjectReader.Index(JsonObjectReader.Join(path, "required"), i++);
                        if (name.ValueKind != JsonValueKind.String)
                        {
                            _r.Warning(at, $"must be a property name, not {JsonObjectReader.Describe(name)}");
                        }
                        else if (!properties.Contains(name.GetString()!, StringComparer.Ordinal))
                        {
                            _r.Warning(at, $"'{name.GetString()}' is required but is not one of the properties ({string.Join(", ", properties)}); add it to 'properties' or remove it from 'required'");
                        }
                    }
                }
            }

            foreach (var keyword in (ReadOnlySpan<string>)["items", "additionalProperties", "not"])
            {
                if (schema.TryGetProperty(keyword, out var sub))
                {
                    if (keyword == "items" && sub.ValueKind == JsonValueKind.Array)
                    {
                        CheckSchemas(sub, JsonObjectReader.Join(path, keyword));
                    }
                    else
                    {
                        CheckSchema(sub, JsonObjectReader.Join(path, keyword));
                    }
                }
            }

            foreach (var keyword in (ReadOnlySpan<string>)["anyOf", "oneOf", "allOf", "prefixItems"])
            {
                if (schema.TryGetProperty(keyword, out var list))
                {
                    CheckSchemas(list, JsonObjectReader.Join(path, keyword));
                }
            }
        }

        private void CheckSchemas(JsonElement list, string path)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                _r.Warning(path, $"must be an array of schemas, not {JsonObjectReader.Describe(list)}");
                return;
            }

            var i = 0;
            foreach (var sub in list.EnumerateArray())
            {
                CheckSchema(sub, JsonObjectReader.Index(path, i++));
            }
        }

        private void CheckSchemaType(JsonElement type, string path)
        {
            if (type.ValueKind != JsonValueKind.String)
            {
                _r.Warning(path, $"must be a JSON Schema type name, not {JsonObjectReader.Describe(type)}");
            }
            else if (type.GetString() is not ("string" or "number" or "integer" or "boolean" or "object" or "array" or "null"))
            {
                _r.Warning(path, $"'{type.GetString()}' is not a JSON Schema type; use string, number, integer, boolean, object, array or null");
            }
        }

        private string? RequireName(JsonElement item, string field, string property)
        {
            if (!item.TryGetProperty(property, out var value) || value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
            {
                _r.Error(JsonObjectReader.Join(field, property), "is required and must be a non-empty string");
                return null;
            }

            return value.GetString();
        }

        /// <summary>Reads an array of MCP protocol objects; <paramref name="check"/> validates one item and returns its unique key.</summary>
        private List<T> ParseList<T>(Dictionary<string, JsonElement> obj, string name, Func<JsonElement, string, string?> check)
        {
            var field = JsonObjectReader.Join("capabilities", name);
            var list = new List<T>();
            if (!obj.TryGetValue(name, out var array) || array.ValueKind == JsonValueKind.Null)
            {
                return list;
            }

            if (array.ValueKind != JsonValueKind.Array)
            {
                _r.Error(field, $"must be an array, not {JsonObjectReader.Describe(array)}");
                return list;
            }

            var typeInfo = (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                var itemField = JsonObjectReader.Index(field, index++);
                if (item.ValueKind != JsonValueKind.Object)
                {
                    _r.Error(itemField, $"must be an object, not {JsonObjectReader.Describe(item)}");
                    continue;
                }

                var errorsBefore = _r.ErrorCount;
                var key = check(item, itemField);
                if (key is not null && !seen.Add(key))
                {
                    _r.Error(itemField, $"'{key}' is listed more than once; names must be unique");
                }

                if (_r.ErrorCount != errorsBefore)
                {
                    continue;
                }

                try
                {
                    if (item.Deserialize(typeInfo) is { } value)
                    {
                        list.Add(value);
                    }
                }
                catch (JsonException ex)
                {
                    _r.Error(itemField, $"is not a valid MCP {typeof(T).Name}: {StripPosition(ex.Message)}");
                }
            }

            return list;
        }
    }
}
