using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Atlas.Client.Pairing;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Hosting;

/// <summary>The static files of wwwroot over real HTTPS (issue 9, installable app and static assets): ETag and 304,
/// immutable hashed URLs, Brotli/gzip for text files only, the manifest and icons public and nothing else new.</summary>
public sealed partial class StaticAssetCachingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A client that sends what the test says (no automatic decompression, no cookies), pinned to the desktop.</summary>
    private static HttpClient RawHttp(AtlasTestHost host)
    {
        var pin = host.Pin;
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => SpkiPin.Matches(certificate, pin) },
        };
        return new HttpClient(handler) { BaseAddress = host.BaseUri, Timeout = TestTimeouts.Default };
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string url, string? acceptEncoding = null, string? ifNoneMatch = null,
        string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        return await http.SendAsync(request, Ct);
    }

    private static async Task<string> PageAsync(HttpClient http, string url)
    {
        using var response = await GetAsync(http, url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    /// <summary>The hashed asset URLs a page refers to (attributes and import map).</summary>
    private static List<string> VersionedUrls(string html) =>
        [.. VersionedUrl().Matches(html).Select(m => m.Value).Distinct(StringComparer.Ordinal)];

    [GeneratedRegex("/[A-Za-z0-9_./-]+\\?v=[0-9a-f]{16}")]
    private static partial Regex VersionedUrl();

    /// <summary>The pages are always revalidated: a strong ETag, and 304 without a body when it still matches.</summary>
    [Theory]
    [Trait("Issue9", "cache")]
    [InlineData("/")]
    [InlineData("/pair")]
    public async Task Page_RequestedAgainWithItsETag_Answers304WithoutBody(string url)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = RawHttp(host);
        using var first = await GetAsync(http, url);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.True(first.Headers.CacheControl?.NoCache, first.Headers.CacheControl?.ToString());

        using var again = await GetAsync(http, url, ifNoneMatch: etag.ToString());
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(etag, again.Headers.ETag);

        using var changed = await GetAsync(http, url, ifNoneMatch: "\"0000000000000000\"");
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
    }

    /// <summary>Every module, stylesheet and icon the pages load has a hashed URL that is cached for a year as
    /// immutable; the same file without the hash (or with an old one) is revalidated instead.</summary>
    [Fact]
    [Trait("Issue9", "cache")]
    public async Task Assets_ReferencedByThePages_AreHashedAndImmutable_UnhashedAreRevalidated()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = RawHttp(host);
        var urls = VersionedUrls(await PageAsync(http, "/")).Concat(VersionedUrls(await PageAsync(http, "/pair"))).Distinct(StringComparer.Ordinal).ToList();
        foreach (var expected in new[] { "/app.js?", "/app-net.js?", "/app-ui.js?", "/app.css?", "/atlas.css?", "/pair.js?", "/manifest.webmanifest?", "/icon.svg?" })
        {
            Assert.Contains(urls, u => u.StartsWith(expected, StringComparison.Ordinal));
        }

        foreach (var url in urls)
        {
            using var response = await GetAsync(http, url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {response.StatusCode}");
            var cache = response.Headers.CacheControl!;
            Assert.True(cache.Public && cache.MaxAge == TimeSpan.FromDays(365) && cache.Extensions.Any(e => e.Name == "immutable"), $"{url}: {cache}");
            Assert.Equal(Regex.Match(url, "v=([0-9a-f]+)").Groups[1].Value, response.Headers.ETag!.Tag.Trim('"'));

            var plain = url[..url.IndexOf('?', StringComparison.Ordinal)];
            foreach (var unhashed in new[] { plain, plain + "?v=0000000000000000" })
            {
                using var revalidated = await GetAsync(http, unhashed);
                Assert.Equal(HttpStatusCode.OK, revalidated.StatusCode);
                Assert.True(revalidated.Headers.CacheControl?.NoCache, $"{unhashed}: {revalidated.Headers.CacheControl}");
                using var notModified = await GetAsync(http, unhashed, ifNoneMatch: revalidated.Headers.ETag!.ToString());
                Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            }
        }
    }

    /// <summary>The import map sends every module import to its hashed URL (one module instance per file), and the
    /// service worker is served with this build's shell: the page and every public file at its hashed URL.</summary>
    [Fact]
    [Trait("Issue9", "pwa")]
    public async Task AppPage_ImportMapAndServiceWorkerShell_ListEveryPublicModuleAtItsHashedUrl()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = RawHttp(host);
        using var page = await GetAsync(http, "/");
        var html = await page.Content.ReadAsStringAsync(Ct);
        var map = Regex.Match(html, "<script type=\"importmap\">(.*?)</script>", RegexOptions.Singleline);
        Assert.True(map.Success, html);
        // The page's policy lets exactly this inline script run (by its hash), no other.
        var hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(map.Groups[1].Value)));
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains($"script-src 'self' 'sha256-{hash}'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.True(html.IndexOf("importmap", StringComparison.Ordinal) < html.IndexOf("<script type=\"module\"", StringComparison.Ordinal));
        var imports = JsonDocument.Parse(map.Groups[1].Value).RootElement.GetProperty("imports").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        var modules = Directory.GetFiles(SourceWwwroot(), "*.js", SearchOption.AllDirectories)
            .Select(f => "/" + Path.GetRelativePath(SourceWwwroot(), f).Replace('\\', '/'))
            .Where(u => u != "/sw.js" && !u.StartsWith("/admin", StringComparison.Ordinal))
            .Concat(["/vendor/dompurify.js", "/vendor/markdown-it.js"]) // embedded from src/Atlas.Desktop/web's npm packages
            .ToList();
        Assert.Equal(modules.Order(StringComparer.Ordinal), imports.Keys.Order(StringComparer.Ordinal));
        Assert.All(imports, i => Assert.StartsWith(i.Key + "?v=", i.Value, StringComparison.Ordinal));
        Assert.DoesNotContain("admin", map.Groups[1].Value, StringComparison.Ordinal);

        var worker = await PageAsync(http, "/sw.js");
        var build = JsonDocument.Parse(Regex.Match(worker, "const BUILD = (.*); // atlas:build").Groups[1].Value).RootElement;
        var shell = build.GetProperty("shell").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains("/", shell);
        Assert.All(imports.Values, url => Assert.Contains(url, shell));
        Assert.All(VersionedUrls(html), url => Assert.Contains(url, shell));
        Assert.DoesNotContain(shell, u => u.Contains("admin", StringComparison.Ordinal) || u.StartsWith("/sw.js", StringComparison.Ordinal));
        Assert.Matches("^[0-9a-f]{16}$", build.GetProperty("version").GetString()!);
        foreach (var url in shell)
        {
            using var response = await GetAsync(http, url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {response.StatusCode}");
        }
    }

    /// <summary>Text files go out Brotli- or gzip-compressed as the browser asks, each decompressing to the same
    /// bytes; images are sent as they are.</summary>
    [Theory]
    [Trait("Issue9", "cache")]
    [InlineData("/app.js", "br, gzip, deflate", "br")]
    [InlineData("/app.js", "gzip, deflate", "gzip")]
    [InlineData("/app.js", "br;q=0, gzip", "gzip")]
    [InlineData("/app.css", "br", "br")]
    [InlineData("/", "gzip, br", "br")]
    [InlineData("/manifest.webmanifest", "br", "br")]
    [InlineData("/app.js", "identity", null)]
    [InlineData("/icon-512.png", "br, gzip", null)]
    public async Task TextAsset_AcceptEncoding_IsSentCompressedAndDecompressesToTheSameBytes(string url, string acceptEncoding, string? expected)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = RawHttp(host);
        using var plain = await GetAsync(http, url);
        var original = await plain.Content.ReadAsByteArrayAsync(Ct);
        Assert.Empty(plain.Content.Headers.ContentEncoding);

        using var response = await GetAsync(http, url, acceptEncoding);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        if (expected is null)
        {
            Assert.Empty(response.Content.Headers.ContentEncoding);
            Assert.Equal(original, body);
            return;
        }

        Assert.Equal([expected], response.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.True(body.Length < original.Length, $"{body.Length} >= {original.Length}");
        Assert.NotEqual(plain.Headers.ETag, response.Headers.ETag);
        using var compressed = new MemoryStream(body);
        using Stream decoder = expected == "br" ? new BrotliStream(compressed, CompressionMode.Decompress) : new GZipStream(compressed, CompressionMode.Decompress);
        using var decoded = new MemoryStream();
        await decoder.CopyToAsync(decoded, Ct);
        Assert.Equal(original, decoded.ToArray());

        using var notModified = await GetAsync(http, url, acceptEncoding, response.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    /// <summary>BREACH: an API answer that carries secrets (a session token, file contents, the admin API) is never
    /// compressed, whatever the request accepts.</summary>
    [Fact]
    [Trait("Issue9", "cache")]
    public async Task ApiResponses_WithAcceptEncoding_AreNeverCompressed()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (_, token) = await host.ProvisionAsync("Breach phone");
        using var http = RawHttp(host);
        foreach (var url in new[] { "/health", "/pair/certificate", "/files/list", "/chat/conversations", "/models" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("Accept-Encoding", "br, gzip");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, Ct);
            Assert.Empty(response.Content.Headers.ContentEncoding);
        }

        var code = host.Get<AdminSessions>().CreateLink().Split("#code=")[1];
        using var login = await http.PostAsync("/admin/login", new StringContent($"{{\"code\":\"{code}\"}}", System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        var cookie = login.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        foreach (var url in new[] { "/admin/api/state", "/admin/api/devices" })
        {
            using var response = await GetAsync(http, url, "br, gzip", cookie: cookie);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {response.StatusCode}");
            Assert.Empty(response.Content.Headers.ContentEncoding);
        }
    }

    /// <summary>Before: /favicon.ico answered 401. The manifest, icons and favicon are public; the admin script and
    /// API stay behind the admin sign-in, and an unknown path is still a 404.</summary>
    [Fact]
    [Trait("Issue9", "pwa")]
    public async Task ManifestIconsAndFavicon_WithoutAuth_AreServed_AdminStaysClosed()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = RawHttp(host);
        foreach (var (url, type) in new[]
        {
            ("/favicon.ico", "image/x-icon"), ("/manifest.webmanifest", "application/manifest+json"), ("/icon.svg", "image/svg+xml"),
            ("/icon-192.png", "image/png"), ("/icon-512.png", "image/png"), ("/icon-maskable-192.png", "image/png"),
            ("/icon-maskable-512.png", "image/png"), ("/apple-touch-icon.png", "image/png"),
        })
        {
            using var response = await GetAsync(http, url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {response.StatusCode}");
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        }

        using (var manifest = await GetAsync(http, "/manifest.webmanifest"))
        {
            var json = JsonDocument.Parse(await manifest.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal("standalone", json.GetProperty("display").GetString());
            foreach (var icon in json.GetProperty("icons").EnumerateArray())
            {
                using var image = await GetAsync(http, icon.GetProperty("src").GetString()!);
                Assert.Equal(HttpStatusCode.OK, image.StatusCode);
            }
        }

        foreach (var url in new[] { "/admin.js", "/admin.html", "/app.html", "/nothing-here.js", "/vendor/none.js" })
        {
            using var response = await GetAsync(http, url);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url}: {response.StatusCode}");
        }

        foreach (var url in new[] { "/files/list", "/chat/conversations", "/admin/api/state" })
        {
            using var response = await GetAsync(http, url);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{url}: {response.StatusCode}");
        }

        // The admin page and script answer only on loopback (as before) and are never stored by shared caches.
        using var adminScript = await GetAsync(http, "/admin/admin.js");
        Assert.True(adminScript.Headers.CacheControl?.Private, adminScript.Headers.CacheControl?.ToString());
    }

    private static string SourceWwwroot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Atlas.Desktop", "wwwroot");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("src/Atlas.Desktop/wwwroot not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The catalog's shell (what the worker keeps) is the same list the served worker carries.</summary>
    [Fact]
    [Trait("Issue9", "pwa")]
    public void Shell_ContainsThePageAndNoAdminFile() =>
        Assert.True(StaticAssets.Shell[0] == "/" && StaticAssets.Shell.All(u => !u.Contains("admin", StringComparison.Ordinal)));
}
