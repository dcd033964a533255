using System.Collections.Frozen;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Net.Http.Headers;

namespace Atlas.Desktop.Hosting;

/// <summary>Serves the plain HTML/JS of <c>wwwroot</c>, embedded in the executable so the app works from any directory.
/// The catalog is built once from the embedded files, so a file added to <c>wwwroot</c> is served (and kept by the
/// service worker) without a list to edit:
/// <list type="bullet">
/// <item>every file has a strong ETag (its SHA-256) and answers <c>If-None-Match</c> with 304;</item>
/// <item>the pages refer to their assets as <c>/name?v=&lt;hash&gt;</c> (rewritten when the catalog is built, modules through
/// an import map), and a request carrying the current hash is cached for a year as immutable; every other request
/// (pages, <c>sw.js</c>, the manifest, an old or missing hash) says <c>no-cache</c> and is revalidated by ETag;</item>
/// <item>text files are compressed once (Brotli and gzip) and sent compressed when the browser accepts it. Only these
/// static files are: no API answer is ever compressed, so no secret shares a compressed body with text an attacker
/// chooses (BREACH).</item>
/// </list>
/// Files named <c>admin*</c> are served only under <c>/admin</c> (behind the admin sign-in); every other file is public,
/// as it holds no secret (the device credential stays in the browser).</summary>
internal static partial class StaticAssets
{
    /// <summary>The query parameter that carries an asset's content hash.</summary>
    public const string VersionParameter = "v";

    private const string ImmutableCache = "public, max-age=31536000, immutable";
    private const string Prefix = "wwwroot/";

    private static readonly Lazy<Catalog> Assets = new(Catalog.Load);

    /// <summary>The public URLs of the app shell: what the service worker keeps (pages excluded except <c>/</c>).</summary>
    internal static IReadOnlyList<string> Shell => Assets.Value.Shell;

    /// <summary>The asset named <paramref name="name"/> (its path under <c>wwwroot</c>).</summary>
    public static IResult Serve(string name) => Assets.Value.ByName.TryGetValue(name, out var asset)
        ? new AssetResult(asset)
        : throw new InvalidOperationException($"The embedded asset wwwroot/{name} is missing from the build.");

    /// <summary>A public asset by its URL path (<c>/favicon.ico</c>, <c>/vendor/x.js</c>), else the usual 404.</summary>
    public static IResult ServePublic(HttpContext context, string? path)
    {
        var url = "/" + (path ?? string.Empty);
        return Assets.Value.PublicByUrl.TryGetValue(url, out var asset)
            ? new AssetResult(asset)
            : RouteMethods.NoEndpoint(context);
    }

    /// <summary>Maps <c>/</c> and every public asset. The catch-all route ranks below every other route, so an explicit
    /// endpoint always wins and an unknown path still gets the usual 404.</summary>
    public static void MapStaticAssets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Serve("app.html")).AllowAnonymous();
        app.MapGet("/{**path}", (HttpContext context, string? path) => ServePublic(context, path)).AllowAnonymous();
    }

    internal static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" or ".mjs" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        ".webmanifest" => "application/manifest+json; charset=utf-8",
        ".json" or ".map" => "application/json; charset=utf-8",
        ".txt" => "text/plain; charset=utf-8",
        ".woff2" => "font/woff2",
        _ => "application/octet-stream",
    };

    private static bool IsText(string contentType) =>
        contentType.StartsWith("text/", StringComparison.Ordinal) || contentType.Contains("json", StringComparison.Ordinal)
        || contentType.StartsWith("image/svg", StringComparison.Ordinal);

    /// <summary>One embedded file with its representations.</summary>
    internal sealed class Asset
    {
        private readonly Lazy<byte[]?> _brotli;
        private readonly Lazy<byte[]?> _gzip;

        public Asset(string name, string url, byte[] bytes, string? inlineScriptHash = null)
        {
            InlineScriptHash = inlineScriptHash;
            Name = name;
            Url = url;
            Bytes = bytes;
            ContentType = ContentTypeOf(name);
            Version = Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 8));
            Compressible = IsText(ContentType);
            _brotli = new(() => Compress(bytes, s => new BrotliStream(s, CompressionLevel.SmallestSize, leaveOpen: true)));
            _gzip = new(() => Compress(bytes, s => new GZipStream(s, CompressionLevel.SmallestSize, leaveOpen: true)));
        }

        public string Name { get; }

        public string Url { get; }

        public byte[] Bytes { get; }

        public string ContentType { get; }

        /// <summary>The first 8 bytes of the content's SHA-256, in hex: the ETag and the <c>?v=</c> of its URL.</summary>
        public string Version { get; }

        public bool Compressible { get; }

        /// <summary>The CSP hash (<c>'sha256-…'</c>) of a page's import map, the one inline script it has.</summary>
        public string? InlineScriptHash { get; }

        /// <summary>Pages and the service worker keep one URL and are always revalidated.</summary>
        public bool Versioned => !Name.EndsWith(".html", StringComparison.Ordinal) && Name != "sw.js";

        public bool AdminOnly => Name.StartsWith("admin", StringComparison.Ordinal);

        public string VersionedUrl => Versioned ? $"{Url}?{VersionParameter}={Version}" : Url;

        /// <summary>The body in <paramref name="encoding"/> (null: identity); null when that encoding would not be smaller.</summary>
        public byte[]? Body(string? encoding) => encoding switch
        {
            null => Bytes,
            "br" => _brotli.Value,
            "gzip" => _gzip.Value,
            _ => null,
        };

        /// <summary>A strong ETag per representation (RFC 9110 §8.8.3): the encodings are different bytes.</summary>
        public string ETag(string? encoding) => encoding is null ? $"\"{Version}\"" : $"\"{Version}-{encoding}\"";

        private static byte[]? Compress(byte[] bytes, Func<Stream, Stream> wrap)
        {
            using var output = new MemoryStream();
            using (var compressor = wrap(output))
            {
                compressor.Write(bytes);
            }

            return output.Length < bytes.Length ? output.ToArray() : null;
        }
    }

    private sealed class Catalog
    {
        public required FrozenDictionary<string, Asset> ByName { get; init; }

        public required FrozenDictionary<string, Asset> PublicByUrl { get; init; }

        public required IReadOnlyList<string> Shell { get; init; }

        public static Catalog Load()
        {
            var assembly = typeof(StaticAssets).Assembly;
            var raw = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(Prefix, StringComparison.Ordinal)))
            {
                using var stream = assembly.GetManifestResourceStream(resource)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                raw[resource[Prefix.Length..].Replace('\\', '/')] = copy.ToArray();
            }

            // Plain files first: the pages and the service worker embed their hashes.
            var assets = raw.Where(r => !IsRewritten(r.Key)).Select(r => new Asset(r.Key, UrlOf(r.Key), r.Value)).ToList();
            var publicAssets = assets.Where(a => !a.AdminOnly).ToList();
            var shell = new List<string> { "/" };
            shell.AddRange(publicAssets.Select(a => a.VersionedUrl));
            foreach (var (name, bytes) in raw.Where(r => r.Key.EndsWith(".html", StringComparison.Ordinal)))
            {
                var page = name.StartsWith("admin", StringComparison.Ordinal) ? assets : publicAssets;
                var (html, importMap) = RewritePage(Encoding.UTF8.GetString(bytes), page);
                var hash = importMap is null ? null : $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(importMap)))}'";
                assets.Add(new Asset(name, UrlOf(name), Encoding.UTF8.GetBytes(html), hash));
            }

            if (raw.TryGetValue("sw.js", out var worker))
            {
                var build = string.Concat(assets.Select(a => a.Version));
                var version = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(build)).AsSpan(0, 8));
                assets.Add(new Asset("sw.js", "/sw.js", Encoding.UTF8.GetBytes(FillWorker(Encoding.UTF8.GetString(worker), version, shell))));
            }

            return new Catalog
            {
                ByName = assets.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal),
                PublicByUrl = assets.Where(a => !a.AdminOnly && !a.Name.EndsWith(".html", StringComparison.Ordinal))
                    .ToFrozenDictionary(a => a.Url, StringComparer.Ordinal),
                Shell = shell,
            };
        }

        private static bool IsRewritten(string name) => name == "sw.js" || name.EndsWith(".html", StringComparison.Ordinal);

        private static string UrlOf(string name) => name.StartsWith("admin", StringComparison.Ordinal) ? "/admin/" + name : "/" + name;

        /// <summary>Points <c>src</c>/<c>href</c> at the hashed URLs and adds an import map, so modules importing
        /// <c>/app-ui.js</c> load <c>/app-ui.js?v=…</c> without any change to the modules themselves.</summary>
        private static (string Html, string? ImportMap) RewritePage(string html, List<Asset> assets)
        {
            var byUrl = assets.ToDictionary(a => a.Url, StringComparer.Ordinal);
            html = AssetReference().Replace(html, m => byUrl.TryGetValue(m.Groups["url"].Value, out var asset)
                ? $"{m.Groups["attr"].Value}=\"{asset.VersionedUrl}\""
                : m.Value);
            var module = html.IndexOf("<script type=\"module\"", StringComparison.Ordinal);
            if (module < 0)
            {
                return (html, null);
            }

            using var json = new MemoryStream();
            using (var writer = new Utf8JsonWriter(json))
            {
                writer.WriteStartObject();
                writer.WriteStartObject("imports");
                foreach (var asset in assets.Where(a => a.ContentType.StartsWith("text/javascript", StringComparison.Ordinal) && a.Versioned))
                {
                    writer.WriteString(asset.Url, asset.VersionedUrl);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            var map = Encoding.UTF8.GetString(json.ToArray());
            return (html.Insert(module, $"<script type=\"importmap\">{map}</script>\n  "), map);
        }

        /// <summary>Gives the service worker this build's shell list and a cache name that changes with any asset, so a
        /// new build installs a new worker that fetches the new files.</summary>
        private static string FillWorker(string source, string version, List<string> shell)
        {
            var build = JsonSerializer.Serialize(new WorkerBuild(version, shell), DesktopJsonContext.Default.WorkerBuild);
            return WorkerBuildLine().Replace(source, $"const BUILD = {build}; // atlas:build", 1);
        }
    }

    /// <summary>What the served <c>sw.js</c> knows about this build.</summary>
    internal sealed record WorkerBuild(string Version, List<string> Shell);

    [GeneratedRegex("(?<attr>src|href)=\"(?<url>/[^\"?#]*)\"")]
    private static partial Regex AssetReference();

    [GeneratedRegex("const BUILD = .*; // atlas:build")]
    private static partial Regex WorkerBuildLine();

    /// <summary>Writes one asset with ETag, Cache-Control and the best encoding the request accepts.</summary>
    private sealed class AssetResult(Asset asset) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            var request = context.Request;
            var response = context.Response;
            var encoding = asset.Compressible ? Negotiate(request.Headers.AcceptEncoding) : null;
            var body = asset.Body(encoding);
            if (body is null)
            {
                encoding = encoding == "br" && asset.Body("gzip") is not null && Accepts(request.Headers.AcceptEncoding, "gzip") ? "gzip" : null;
                body = asset.Body(encoding)!;
            }

            var versioned = asset.Versioned && request.Query[VersionParameter] == asset.Version;
            var headers = response.Headers;
            headers.CacheControl = versioned ? (asset.AdminOnly ? ImmutableCache.Replace("public", "private", StringComparison.Ordinal) : ImmutableCache)
                : asset.AdminOnly ? "private, no-cache" : "no-cache";
            headers.ETag = asset.ETag(encoding);
            headers.XContentTypeOptions = "nosniff";
            if (asset.InlineScriptHash is { } hash)
            {
                headers.ContentSecurityPolicy = AllowInlineScript(headers.ContentSecurityPolicy.ToString(), hash);
            }

            if (asset.Compressible)
            {
                headers.Vary = HeaderNames.AcceptEncoding;
            }

            if (Matches(request.Headers.IfNoneMatch, asset))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }

            response.ContentType = asset.ContentType;
            if (encoding is not null)
            {
                headers.ContentEncoding = encoding;
            }

            response.ContentLength = body.Length;
            return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
        }

        /// <summary>Lets the page's import map run under the site's policy (set by the network guard), by its hash only.</summary>
        private static string AllowInlineScript(string policy, string hash)
        {
            if (policy.Length == 0)
            {
                return $"script-src 'self' {hash}";
            }

            var at = policy.IndexOf("script-src ", StringComparison.Ordinal);
            return at >= 0 ? policy.Insert(at + "script-src ".Length, hash + " ") : $"{policy}; script-src 'self' {hash}";
        }

        /// <summary>If-None-Match uses the weak comparison (RFC 9110 §13.1.2): any representation's tag, weak or strong, matches.</summary>
        private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, Asset asset)
        {
            if (ifNoneMatch.Count == 0 || !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
            {
                return false;
            }

            return tags.Any(t => t.Tag.Equals("*", StringComparison.Ordinal)
                || t.Tag.Equals(asset.ETag(null), StringComparison.Ordinal)
                || t.Tag.Equals(asset.ETag("br"), StringComparison.Ordinal)
                || t.Tag.Equals(asset.ETag("gzip"), StringComparison.Ordinal));
        }

        private static string? Negotiate(Microsoft.Extensions.Primitives.StringValues acceptEncoding) =>
            Accepts(acceptEncoding, "br") ? "br" : Accepts(acceptEncoding, "gzip") ? "gzip" : null;

        private static bool Accepts(Microsoft.Extensions.Primitives.StringValues acceptEncoding, string coding) =>
            StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var codings)
            && codings.Any(c => c.Value.Equals(coding, StringComparison.OrdinalIgnoreCase) && (c.Quality ?? 1) > 0);
    }
}
