using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Admin;

public sealed class AdminUiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OneTimeAdminLink_BecomesStrictHttpOnlyCookie_AndGuardsChanges()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Pairing:Approval"] = "prompt" });
        var cookies = new CookieContainer();
        var pin = host.Pin;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            CookieContainer = cookies,
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, chain, _) => SpkiPin.Matches(certificate, chain, pin) },
        })
        { BaseAddress = host.BaseUri };

        using (var anonymous = await http.GetAsync("admin/api/state", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        var link = host.Get<AdminSessions>().CreateLink();
        Assert.StartsWith(host.BaseUri + "admin#code=", link, StringComparison.Ordinal);
        var code = link[(link.IndexOf("#code=", StringComparison.Ordinal) + 6)..];
        using (var login = await http.PostAsJsonAsync("admin/login", new { code }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
            var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
            Assert.StartsWith("__Host-atlas_admin=", setCookie, StringComparison.Ordinal);
            Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        }

        using (var reused = await http.PostAsJsonAsync("admin/login", new { code }, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, reused.StatusCode);
        }

        using (var state = await http.GetAsync("admin/api/state", Ct))
        {
            var json = JsonDocument.Parse(await state.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal(host.Pin, json.GetProperty("fingerprint").GetString());
        }

        using (var noHeader = await http.PostAsync("admin/api/pair", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, noHeader.StatusCode);
        }

        var pair = new HttpRequestMessage(HttpMethod.Post, "admin/api/pair");
        pair.Headers.Add(AdminEndpoints.Header, "1");
        pair.Headers.Add("Origin", host.BaseUri.GetLeftPart(UriPartial.Authority));
        using (var created = await http.SendAsync(pair, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            var url = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("url").GetString();
            Assert.True(PairingLink.TryParse(url, out _, out _));
        }

        var svg = await http.GetStringAsync("admin/api/qr.svg", Ct);
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
        var png = await http.GetByteArrayAsync("admin/api/qr.png", Ct);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

        // A pending device shows with its check code and can be approved from the admin API.
        var waiting = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var link2 = await host.NewLinkAsync();
        var pending = Atlas.Client.AtlasClient.PairAsync(link2, "Admin test phone", "android", code => waiting.TrySetResult(code),
            AtlasTestHost.ClientOptions(), Ct);
        var checkCode = await waiting.Task.WaitAsync(TestTimeouts.Default, Ct);
        var devices = JsonDocument.Parse(await http.GetStringAsync("admin/api/state", Ct)).RootElement.GetProperty("devices");
        var device = Assert.Single(devices.EnumerateArray());
        Assert.Equal(("pending", checkCode), (device.GetProperty("status").GetString(), device.GetProperty("checkCode").GetString()));
        var approve = new HttpRequestMessage(HttpMethod.Post, $"admin/api/devices/{device.GetProperty("id").GetString()}/approve");
        approve.Headers.Add(AdminEndpoints.Header, "1");
        using (var approved = await http.SendAsync(approve, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        }

        await pending.WaitAsync(TestTimeouts.Default, Ct);
    }

    [Fact]
    public async Task AdminPage_IsServed_AndTokensAreAdminOnly()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var http = host.PinnedHttp();
        var html = await http.GetStringAsync("admin", Ct);
        Assert.Contains("<script type=\"module\" src=\"/admin/admin.js?v=", html, StringComparison.Ordinal); // hashed URL (StaticAssets)
        using var client = await host.PairClientAsync();
        // A device's session does not open the admin API.
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "admin/api/state"), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(ErrorCodes.Unauthorized, await AtlasTestHost.ErrorCodeAsync(response));
    }
}
