using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atlas.Client.Pairing;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Admin;

/// <summary>The admin page's side of the admin API: signed in through a real one-time link (cookie), sending the
/// <c>X-Atlas-Admin</c> header and the page's own Origin on changes, like admin.js does.</summary>
internal sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _origin;

    private AdminClient(HttpClient http, string origin)
    {
        _http = http;
        _origin = origin;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static HttpClient NewHttp(AtlasTestHost host, CookieContainer? cookies = null)
    {
        var pin = host.Pin;
        return new HttpClient(new SocketsHttpHandler
        {
            CookieContainer = cookies ?? new CookieContainer(),
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, chain, _) => SpkiPin.Matches(certificate, chain, pin) },
        })
        { BaseAddress = host.BaseUri, Timeout = TestTimeouts.Default };
    }

    public static async Task<AdminClient> SignInAsync(AtlasTestHost host)
    {
        var http = NewHttp(host);
        var link = host.Get<AdminSessions>().CreateLink();
        var code = link[(link.IndexOf("#code=", StringComparison.Ordinal) + 6)..];
        using var login = await http.PostAsJsonAsync("admin/login", new { code }, Ct);
        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        return new AdminClient(http, host.BaseUri.GetLeftPart(UriPartial.Authority));
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null, string? origin = null, bool header = true)
    {
        var request = new HttpRequestMessage(method, "admin/api/" + path);
        if (header)
        {
            request.Headers.Add(AdminEndpoints.Header, "1");
        }

        request.Headers.Add("Origin", origin ?? _origin);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return _http.SendAsync(request, Ct);
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<JsonElement> PostAsync(string path, object? body = null)
    {
        using var response = await SendAsync(HttpMethod.Post, path, body);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Opens a streamed GET (server-sent events): returns once the headers arrived.</summary>
    public Task<HttpResponseMessage> OpenStreamAsync(string path) =>
        _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "admin/api/" + path), HttpCompletionOption.ResponseHeadersRead, Ct);

    public void Dispose() => _http.Dispose();
}
