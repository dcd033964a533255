using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Infrastructure;
using Atlas.Desktop.Tests.Network;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Admin;

/// <summary>"This desktop": the desktop user's own chat over loopback with the admin cookie, its conversations apart
/// from every phone's both ways, never reachable from the LAN, another origin or without the admin UI, and not a
/// paired device.</summary>
public sealed class DesktopChatTests
{
    private const string LanName = "atlas.lan";

    /// <summary>The admin page's live-connection count is of paired devices: the desktop's own chat socket ("This
    /// desktop") is not one of them.</summary>
    [Fact]
    [Trait("Leftovers", "live-count")]
    public async Task AdminState_WithThisDesktopAndAPhoneConnected_CountsOnlyThePhone()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (_, token) = await host.ProvisionAsync("Phone");
        var (phone, _) = await host.ConnectRawAsync(token);
        using var _phone = phone;
        using var desktop = await DesktopUser.SignInAsync(host);
        using var socket = await desktop.ConnectAsync();

        var state = await desktop.Admin.GetAsync("state");

        Assert.Equal(1, state.GetProperty("connections").GetInt32());
    }

    /// <summary>Phones and the desktop never see or address each other's conversations, over REST and WebSocket.</summary>
    [Fact]
    [Trait("Issue9", "desktop-chat")]
    public async Task Conversations_OfTheDesktopAndOfAPhone_AreInvisibleToEachOther_OverRestAndWebSocket()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var phoneConversation = (await AllAsync(phone.Chat.SendAsync(Message("phone secret"), cancellationToken: Ct)))[0].ConversationId!;
        using var desktop = await DesktopUser.SignInAsync(chat.Host);
        using var socket = await desktop.ConnectAsync();
        var desktopConversation = (await DesktopUser.SendAsync(socket, "d1", "desktop secret")).ConversationId!;

        // The desktop sees its own conversation only.
        Assert.Equal([desktopConversation], (await DesktopUser.ListOverSocketAsync(socket)).Select(c => c.Id));
        using (var list = await desktop.RestAsync(HttpMethod.Get, "chat/conversations"))
        {
            var rest = await list.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ConversationResponse, Ct);
            Assert.Equal([desktopConversation], rest!.Conversations!.Select(c => c.Id));
        }

        // … and cannot address the phone's.
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            using var response = await desktop.RestAsync(method, $"chat/conversations/{phoneConversation}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(ErrorCodes.NotFound, await DesktopUser.ConversationErrorAsync(socket, "load", phoneConversation));
        Assert.Equal(ErrorCodes.NotFound, await DesktopUser.ConversationErrorAsync(socket, "delete", phoneConversation));
        Assert.Equal(ErrorCodes.NotFound, await DesktopUser.SendErrorAsync(socket, "d2", "join in", phoneConversation));

        // The phone sees its own conversation only and cannot address the desktop's.
        Assert.Equal([phoneConversation], (await phone.Chat.ListConversationsAsync(Ct)).Select(c => c.Id));
        foreach (var attempt in new Func<Task>[]
        {
            () => phone.Chat.LoadConversationAsync(desktopConversation, Ct),
            () => phone.Chat.RenameConversationAsync(desktopConversation, "mine now", Ct),
            () => phone.Chat.DeleteConversationAsync(desktopConversation, Ct),
            () => AllAsync(phone.Chat.SendAsync(Message("join in", desktopConversation), cancellationToken: Ct)),
        })
        {
            Assert.Equal(ErrorCodes.NotFound, (await Assert.ThrowsAsync<AtlasException>(attempt)).Code);
        }

        using (var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"chat/conversations/{desktopConversation}"), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal([desktopConversation], (await DesktopUser.ListOverSocketAsync(socket)).Select(c => c.Id));
    }

    /// <summary>Without the admin cookie there is no desktop session, and a desktop token alone opens nothing.</summary>
    [Fact]
    [Trait("Issue9", "desktop-chat")]
    public async Task DesktopChat_WithoutTheAdminCookie_IsRefused()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var anonymous = AdminClient.NewHttp(host);
        using (var request = new HttpRequestMessage(HttpMethod.Post, "admin/api/desktop-session"))
        {
            request.Headers.Add(AdminEndpoints.Header, "1");
            using var response = await anonymous.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var desktop = await DesktopUser.SignInAsync(host);
        using (var withoutHeader = new HttpRequestMessage(HttpMethod.Post, "admin/api/desktop-session"))
        using (var response = await desktop.Http.SendAsync(withoutHeader, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); // a cross-site form cannot set the header
        }

        // The token without the cookie: REST and WebSocket refuse it.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "chat/conversations"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", desktop.Token);
            using var response = await anonymous.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(ErrorCodes.Unauthorized, await AtlasTestHost.ErrorCodeAsync(response));
        }

        var (socket, reply) = await host.ConnectRawAsync(desktop.Token);
        using (socket)
        {
            Assert.Equal((MessageTypes.AuthFailed, ErrorCodes.Unauthorized), (reply.Type, Code(reply)));
        }

        // Signing out ends it: the next desktop call is refused.
        await desktop.SignOutAsync();
        using (var after = await desktop.RestAsync(HttpMethod.Get, "chat/conversations"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }
    }

    /// <summary>From a LAN address (Host) or another origin, even with the admin cookie and a desktop token, the
    /// desktop's chat answers nothing, over REST and WebSocket; its page is not served there either.</summary>
    [Fact]
    [Trait("Issue9", "desktop-chat")]
    public async Task DesktopChat_FromTheLanOrAnotherOrigin_IsRefused_OverRestAndWebSocket()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Network:AllowedHosts:0"] = LanName });
        using var desktop = await DesktopUser.SignInAsync(host);
        var lanBase = new UriBuilder(host.BaseUri) { Host = LanName }.Uri;
        var lanOrigin = lanBase.GetLeftPart(UriPartial.Authority);
        var cookie = $"{AdminSessions.CookieName}={desktop.Cookie}";

        // Reached at the LAN name: REST, the page and the session endpoint refuse.
        using var lan = new HttpClient(LanPeer.Handler(host, "127.0.0.1")) { BaseAddress = lanBase, Timeout = TestTimeouts.Default };
        foreach (var (method, path) in new[] { (HttpMethod.Get, "chat/conversations"), (HttpMethod.Get, "admin/chat"), (HttpMethod.Post, "admin/api/desktop-session") })
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", desktop.Token);
            request.Headers.Add("Cookie", cookie);
            request.Headers.Add(AdminEndpoints.Header, "1");
            using var response = await lan.SendAsync(request, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} over the LAN name: {(int)response.StatusCode}");
        }

        // From this desktop's LAN origin (an allowed origin for phones), on loopback: refused.
        using (var response = await desktop.RestAsync(HttpMethod.Get, "chat/conversations", origin: lanOrigin))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal(ErrorCodes.Forbidden, await AtlasTestHost.ErrorCodeAsync(response));
        }

        // WebSocket at the LAN name, and on loopback from the LAN origin: auth_failed.
        foreach (var (uri, origin, invoker) in new[]
        {
            (new UriBuilder(host.WebSocketUri) { Host = LanName }.Uri, lanOrigin, new HttpMessageInvoker(LanPeer.Handler(host, "127.0.0.1"))),
            (host.WebSocketUri, lanOrigin, (HttpMessageInvoker?)null),
        })
        {
            // Through an invoker the handler checks the pin; without one the socket does.
            using var socket = invoker is null ? host.NewSocket() : new ClientWebSocket();
            socket.Options.SetRequestHeader("Origin", origin);
            socket.Options.SetRequestHeader("Cookie", cookie);
            await socket.ConnectAsync(uri, invoker, Ct);
            var reply = await DesktopUser.AuthAsync(socket, desktop.Token);
            Assert.Equal((MessageTypes.AuthFailed, ErrorCodes.Forbidden), (reply.Type, Code(reply)));
            invoker?.Dispose();
        }

        // A peer outside loopback never passes, whatever it carries.
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("192.168.1.50");
        context.Request.Host = new Microsoft.AspNetCore.Http.HostString("127.0.0.1", host.BaseUri.Port);
        Assert.Equal(ErrorCodes.Forbidden, DesktopChat.Refusal(context)?.Code);
    }

    /// <summary>"This desktop" is not a paired device: never listed, no credential reaches it, it cannot be revoked,
    /// approved or have permissions changed.</summary>
    [Fact]
    [Trait("Issue9", "desktop-chat")]
    public async Task DesktopIdentity_IsNotAPairedDevice_NeverListed_NoCredential_CannotBeRevoked()
    {
        await using var host = await AtlasTestHost.StartAsync();
        await host.PairAsync("Phone");
        using var desktop = await DesktopUser.SignInAsync(host);
        var devices = host.Get<DeviceService>();
        Assert.DoesNotContain(await devices.ListAsync(Ct), d => d.Id == DesktopChat.DeviceId);
        var listed = await desktop.Admin.GetAsync("devices");
        Assert.Equal(["Phone"], listed.EnumerateArray().Select(d => d.GetProperty("name").GetString()));

        foreach (var action in new[] { "revoke", "approve", "deny" })
        {
            using var response = await desktop.Admin.SendAsync(HttpMethod.Post, $"devices/{DesktopChat.DeviceId}/{action}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var response = await desktop.Admin.SendAsync(HttpMethod.Post, $"devices/{DesktopChat.DeviceId}/permissions", new { permissions = new[] { "chat" } }))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using var http = host.PinnedHttp();
        using (var response = await host.PostAuthAsync(http, new AuthRequest
        {
            GrantType = AtlasProtocol.GrantDeviceCredential,
            DeviceCredential = DesktopChat.DeviceId + "." + Auth.Secrets.NewSecret(),
        }))
        {
            Assert.Equal(ErrorCodes.Unauthorized, await AtlasTestHost.ErrorCodeAsync(response));
        }

        // Still working after all that.
        using var after = await desktop.RestAsync(HttpMethod.Get, "chat/conversations");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    /// <summary>Like a phone's: a message sent again with the same id after a lost socket is answered once (the
    /// model is asked once) and the answer is replayed whole on the new socket.</summary>
    [Fact]
    [Trait("Issue9", "desktop-chat")]
    public async Task DesktopMessage_SentAgainOnANewSocket_IsAnsweredOnce_AndResumes()
    {
        await using var chat = await StartAsync();
        var reached = new TaskCompletionSource();
        var gate = new TaskCompletionSource();
        chat.Fake.Enqueue(Gated(reached, gate));
        using var desktop = await DesktopUser.SignInAsync(chat.Host);
        using (var first = await desktop.ConnectAsync())
        {
            await AtlasTestHost.SendAsync(first, DesktopUser.ChatFrame("m1", "a long answer please"));
            await reached.Task.WaitAsync(TestTimeouts.Default, Ct);
            first.Abort();
        }

        using var second = await desktop.ConnectAsync();
        await AtlasTestHost.SendAsync(second, DesktopUser.ChatFrame("m1", "a long answer please"));
        gate.SetResult();
        var text = new System.Text.StringBuilder();
        var done = await DesktopUser.ReadAnswerAsync(second, "m1", text);
        Assert.Equal(ChatEventKinds.Done, done.Kind);
        Assert.Equal(GatedText(), text.ToString());
        Assert.Single(chat.Fake.Requests);
    }

    private static string? Code(AtlasEnvelope frame) => frame.Error?.Code;
}

/// <summary>The desktop chat page's side: signed in to the admin UI (cookie), a desktop session from the admin API,
/// then REST with the token and the cookie, and a WebSocket from this desktop's loopback origin, like app-net.js.</summary>
internal sealed class DesktopUser : IDisposable
{
    private readonly CookieContainer _cookies;
    private readonly AtlasTestHost _host;

    private DesktopUser(AtlasTestHost host, CookieContainer cookies, HttpClient http, AdminClient admin, string token)
    {
        _host = host;
        _cookies = cookies;
        Http = http;
        Admin = admin;
        Token = token;
    }

    public HttpClient Http { get; }

    public AdminClient Admin { get; }

    public string Token { get; }

    public string Origin => _host.BaseUri.GetLeftPart(UriPartial.Authority);

    public string Cookie => _cookies.GetCookies(_host.BaseUri)[AdminSessions.CookieName]!.Value;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<DesktopUser> SignInAsync(AtlasTestHost host)
    {
        var cookies = new CookieContainer();
        var http = AdminClient.NewHttp(host, cookies);
        var link = host.Get<AdminSessions>().CreateLink();
        using (var login = await http.PostAsJsonAsync("admin/login", new { code = link[(link.IndexOf("#code=", StringComparison.Ordinal) + 6)..] }, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/api/desktop-session");
        request.Headers.Add(AdminEndpoints.Header, "1");
        request.Headers.Add("Origin", host.BaseUri.GetLeftPart(UriPartial.Authority));
        using var response = await http.SendAsync(request, Ct);
        var session = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.SessionResponse, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(DesktopChat.DeviceId, session!.DeviceId);
        return new DesktopUser(host, cookies, http, await AdminClient.SignInAsync(host), session.SessionToken);
    }

    public async Task SignOutAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/api/logout");
        request.Headers.Add(AdminEndpoints.Header, "1");
        using var response = await Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public Task<HttpResponseMessage> RestAsync(HttpMethod method, string path, string? origin = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return Http.SendAsync(request, Ct);
    }

    public async Task<ClientWebSocket> ConnectAsync()
    {
        var socket = _host.NewSocket(Origin);
        socket.Options.Cookies = _cookies;
        await socket.ConnectAsync(_host.WebSocketUri, Ct);
        var reply = await AuthAsync(socket, Token);
        Assert.Equal(MessageTypes.AuthSuccess, reply.Type);
        return socket;
    }

    public static async Task<AtlasEnvelope> AuthAsync(WebSocket socket, string token)
    {
        await AtlasTestHost.SendAsync(socket, new AtlasEnvelope
        {
            Type = MessageTypes.Auth,
            Id = "a1",
            Data = JsonSerializer.SerializeToElement(new AuthFrame { Token = token }, AtlasJsonContext.Default.AuthFrame),
        });
        return (await AtlasTestHost.ReceiveAsync(socket))!;
    }

    public static AtlasEnvelope ChatFrame(string id, string text, string? conversationId = null) => new()
    {
        Type = MessageTypes.ChatMessage,
        Id = id,
        Data = JsonSerializer.SerializeToElement(new ChatMessageRequest { Text = text, ConversationId = conversationId },
            AtlasJsonContext.Default.ChatMessageRequest),
    };

    /// <summary>Sends a message and reads its answer to the end; returns the last event.</summary>
    public static async Task<ChatEvent> SendAsync(WebSocket socket, string id, string text, string? conversationId = null)
    {
        await AtlasTestHost.SendAsync(socket, ChatFrame(id, text, conversationId));
        return await ReadAnswerAsync(socket, id, new System.Text.StringBuilder());
    }

    /// <summary>Sends a message into a conversation it may not address; returns the error code.</summary>
    public static async Task<string?> SendErrorAsync(WebSocket socket, string id, string text, string conversationId)
    {
        await AtlasTestHost.SendAsync(socket, ChatFrame(id, text, conversationId));
        return await ErrorAsync(socket, id);
    }

    public static async Task<ChatEvent> ReadAnswerAsync(WebSocket socket, string id, System.Text.StringBuilder text)
    {
        string? conversation = null;
        while (true)
        {
            var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ChatResponse, MessageTypes.Error)
                ?? throw new InvalidOperationException("The socket closed before the answer ended.");
            Assert.NotEqual(MessageTypes.Error, frame.Type);
            if (frame.Re != id)
            {
                continue;
            }

            var chatEvent = frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ChatEvent)!;

            text.Append(chatEvent.Delta);
            conversation ??= chatEvent.ConversationId;
            if (chatEvent.Kind is ChatEventKinds.Done or ChatEventKinds.Error)
            {
                chatEvent.ConversationId ??= conversation;
                return chatEvent;
            }
        }
    }

    public static async Task<IReadOnlyList<ConversationInfo>> ListOverSocketAsync(WebSocket socket)
    {
        var id = "l-" + Guid.NewGuid().ToString("N");
        await AtlasTestHost.SendAsync(socket, ConversationFrame(id, "list", null));
        var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ConversationResponse, MessageTypes.Error);
        Assert.Equal(MessageTypes.ConversationResponse, frame!.Type);
        return frame.Data!.Value.Deserialize(AtlasJsonContext.Default.ConversationResponse)!.Conversations!;
    }

    public static async Task<string?> ConversationErrorAsync(WebSocket socket, string op, string conversationId)
    {
        var id = "c-" + Guid.NewGuid().ToString("N");
        await AtlasTestHost.SendAsync(socket, ConversationFrame(id, op, conversationId));
        return await ErrorAsync(socket, id);
    }

    public void Dispose()
    {
        Admin.Dispose();
        Http.Dispose();
    }

    private static async Task<string?> ErrorAsync(WebSocket socket, string id)
    {
        while (true)
        {
            var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error, MessageTypes.ConversationResponse, MessageTypes.ChatResponse)
                ?? throw new InvalidOperationException("The socket closed before the reply.");
            if (frame.Re == id || frame.Id == id)
            {
                return frame.Type == MessageTypes.Error ? frame.Error?.Code : null;
            }
        }
    }

    private static AtlasEnvelope ConversationFrame(string id, string op, string? conversationId) => new()
    {
        Type = MessageTypes.ConversationRequest,
        Id = id,
        Data = JsonSerializer.SerializeToElement(new ConversationRequest { Op = op, ConversationId = conversationId },
            AtlasJsonContext.Default.ConversationRequest),
    };
}
