using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Realtime;

public sealed class WebSocketTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RevokedDevice_IsCutOffMidConnection_AndCannotComeBack()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var credentials = await host.PairAsync();
        using var client = new Atlas.Client.AtlasClient(credentials, AtlasTestHost.ClientOptions());
        await using var connection = await client.ConnectAsync(Ct);
        var session = await client.GetSessionAsync(Ct);
        var (raw, hello) = await host.ConnectRawAsync(session.SessionToken);
        Assert.Equal(MessageTypes.AuthSuccess, hello.Type);

        var closed = await host.Get<DeviceService>().RevokeAsync(credentials.DeviceId, deleteFiles: false, Ct);
        Assert.Equal(2, closed);

        Assert.Equal(ErrorCodes.Revoked, await connection.Closed.WaitAsync(TestTimeouts.Default, Ct));
        var last = await AtlasTestHost.ReceiveTypeAsync(raw, MessageTypes.Error);
        Assert.Equal(ErrorCodes.Revoked, last!.Error!.Code);
        Assert.Null(await AtlasTestHost.ReceiveAsync(raw));
        Assert.Equal(AtlasProtocol.CloseRevoked, (int)raw.CloseStatus!);

        // The old session and the credential are dead too.
        using var request = new HttpRequestMessage(HttpMethod.Get, "files/list");
        request.Headers.Authorization = new("Bearer", session.SessionToken);
        using var http = host.PinnedHttp();
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        client.InvalidateSession();
        var error = await Assert.ThrowsAsync<AtlasException>(() => client.GetSessionAsync(Ct));
        Assert.Equal(ErrorCodes.Revoked, error.Code);
    }

    [Fact]
    public async Task PermissionChange_AppliesToLiveSocket()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        await Write(connection, "w1", "a.txt", "one");

        await host.Get<DeviceService>().SetPermissionsAsync(connection.DeviceId, [Permissions.FilesRead], null, Ct);
        var update = await NextEventAsync(connection, MessageTypes.StatusUpdate, e =>
            e.Data!.Value.GetProperty("permissions").GetArrayLength() == 1);
        Assert.Equal(Permissions.FilesRead, update.Data!.Value.GetProperty("permissions")[0].GetString());

        var error = await Assert.ThrowsAsync<AtlasException>(() => Write(connection, "w2", "b.txt", "two"));
        Assert.Equal(ErrorCodes.Forbidden, error.Code);
        Assert.Equal([Permissions.FilesRead], connection.Permissions);
    }

    [Fact]
    public async Task RepeatedRequestId_IsAnsweredFromCache_AndDifferentBodyIsRefused()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        var first = await Write(connection, "same-id", "x.txt", "first");
        File.WriteAllText(Path.Combine(host.DataDir, "files", connection.DeviceId, "x.txt"), "changed on disk");
        var again = await Write(connection, "same-id", "x.txt", "first");
        Assert.Equal(first.Data!.Value.GetProperty("modified").GetString(), again.Data!.Value.GetProperty("modified").GetString());
        Assert.Equal("changed on disk", File.ReadAllText(Path.Combine(host.DataDir, "files", connection.DeviceId, "x.txt")));

        var error = await Assert.ThrowsAsync<AtlasException>(() => Write(connection, "same-id", "x.txt", "other"));
        Assert.Equal(ErrorCodes.DuplicateRequest, error.Code);
    }

    [Fact]
    public async Task Chat_WithoutAnLlm_AnswersLlmNotConfigured()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("OPENROUTER_API_KEY") is { Length: > 0 }, "OPENROUTER_API_KEY is set here.");
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        var chat = await Assert.ThrowsAsync<AtlasException>(() =>
            connection.RequestAsync(MessageTypes.ChatMessage, Json("""{"text":"hi"}"""), cancellationToken: Ct));
        Assert.Equal(ErrorCodes.LlmNotConfigured, chat.Code);

        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/message") { Content = new StringContent("""{"id":"c1","text":"hi"}""", System.Text.Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(ErrorCodes.LlmNotConfigured, await AtlasTestHost.ErrorCodeAsync(response));
    }

    [Fact]
    public async Task StatusUpdate_AfterAuth_CarriesDesktopState()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (_, token) = await host.ProvisionAsync("s");
        var (socket, hello) = await host.ConnectRawAsync(token);
        Assert.Equal(MessageTypes.AuthSuccess, hello.Type);
        var status = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.StatusUpdate);
        var data = status!.Data!.Value;
        Assert.False(data.GetProperty("llm").GetProperty("configured").GetBoolean() && Environment.GetEnvironmentVariable("OPENROUTER_API_KEY") is null);
        Assert.Equal(JsonValueKind.Array, data.GetProperty("hub").GetProperty("servers").ValueKind);
        Assert.Equal(JsonValueKind.Array, data.GetProperty("jobs").ValueKind);
        Assert.Equal(JsonValueKind.Array, data.GetProperty("permissions").ValueKind);
    }

    [Theory]
    [InlineData("not json", ErrorCodes.BadFrame)]
    [InlineData("""{"v":1}""", ErrorCodes.BadFrame)]
    [InlineData("""{"v":2,"type":"ping","id":"p"}""", ErrorCodes.UnsupportedVersion)]
    [InlineData("""{"v":1,"type":"teleport","id":"t"}""", ErrorCodes.UnknownType)]
    [InlineData("""{"v":1,"type":"file_request","data":{"op":"list","path":""}}""", ErrorCodes.BadRequest)]
    [InlineData("""{"v":1,"type":"file_request","id":"f","data":{"op":"list","path":7}}""", ErrorCodes.BadRequest)]
    [InlineData("""{"v":1,"type":"file_request","id":"g","data":{"op":"format","path":""}}""", ErrorCodes.BadRequest)]
    [InlineData("""{"v":1,"type":"chat_response","id":"h"}""", ErrorCodes.BadRequest)]
    public async Task MalformedFrame_GetsErrorAndSocketStaysUsable(string frame, string code)
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (_, token) = await host.ProvisionAsync("m");
        var (socket, _) = await host.ConnectRawAsync(token);
        await AtlasTestHost.SendTextAsync(socket, frame);
        var error = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error);
        Assert.Equal(code, error!.Error!.Code);

        await AtlasTestHost.SendTextAsync(socket, """{"v":1,"type":"ping","id":"alive"}""");
        var pong = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Pong);
        Assert.Equal("alive", pong!.Re);
    }

    [Fact]
    public async Task DeeplyNestedOrBinaryOrInvalidUtf8Frames_AreRefusedWithoutClosing()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (_, token) = await host.ProvisionAsync("n");
        var (socket, _) = await host.ConnectRawAsync(token);
        var nested = """{"v":1,"type":"ping","id":"x","data":""" + new string('[', 200) + new string(']', 200) + "}";
        await AtlasTestHost.SendTextAsync(socket, nested);
        Assert.Equal(ErrorCodes.BadFrame, (await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error))!.Error!.Code);
        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, Ct);
        Assert.Equal(ErrorCodes.BadFrame, (await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error))!.Error!.Code);
        await socket.SendAsync(new byte[] { (byte)'{', 0xC3, 0x28, (byte)'}' }, WebSocketMessageType.Text, true, Ct);
        // Invalid UTF-8 in a text frame is a protocol violation (RFC 6455: close 1007); either answer is acceptable,
        // an unhandled server fault is not.
        AtlasEnvelope? third = null;
        try
        {
            third = await AtlasTestHost.ReceiveAsync(socket);
        }
        catch (WebSocketException)
        {
            // Closed without a close frame.
        }

        Assert.True(third is null || third.Error?.Code == ErrorCodes.BadFrame);
    }

    /// <summary>Regression: docs/atlas-protocol.md says frames nest at most 32 deep, but frames 33 to 62 deep were
    /// accepted (the parser ran at System.Text.Json's default of 64). The envelope object is the first level.</summary>
    [Theory]
    [InlineData(32, true)]
    [InlineData(33, false)]
    public async Task Frame_AtTheDocumentedDepth_AcceptedAndOneDeeper_RefusedWithBadFrame(int depth, bool accepted)
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (_, token) = await host.ProvisionAsync("deep");
        var (socket, _) = await host.ConnectRawAsync(token);
        var frame = """{"v":1,"type":"ping","id":"deep","data":""" + new string('[', depth - 1) + new string(']', depth - 1) + "}";
        await AtlasTestHost.SendTextAsync(socket, frame);

        var reply = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Pong, MessageTypes.Error);
        Assert.Equal(accepted ? MessageTypes.Pong : MessageTypes.Error, reply!.Type);
        if (!accepted)
        {
            Assert.Equal(ErrorCodes.BadFrame, reply.Error!.Code);
        }
    }

    /// <summary>Regression: invalid UTF-8 in a text frame closed an authenticated socket with 1007 (RFC 6455) but dropped
    /// a socket that had not authenticated yet without a close code. Both now close with 1007.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InvalidUtf8TextFrame_BeforeOrAfterAuth_ClosesWith1007(bool authenticated)
    {
        await using var host = await AtlasTestHost.StartAsync();
        ClientWebSocket socket;
        if (authenticated)
        {
            var (_, token) = await host.ProvisionAsync("utf8");
            (socket, _) = await host.ConnectRawAsync(token);
        }
        else
        {
            socket = host.NewSocket();
            await socket.ConnectAsync(host.WebSocketUri, Ct);
        }

        using (socket)
        {
            await socket.SendAsync(new byte[] { (byte)'{', 0xC3, 0x28, (byte)'}' }, WebSocketMessageType.Text, true, Ct);
            while (await AtlasTestHost.ReceiveAsync(socket) is not null)
            {
                // status_update and the like until the close frame
            }

            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, socket.CloseStatus);
        }
    }

    [Fact]
    public async Task OversizedFrame_ClosesWithMessageTooBig()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:WebSocket:MaxFrameBytes"] = "65536" });
        var (_, token) = await host.ProvisionAsync("big");
        var (socket, _) = await host.ConnectRawAsync(token);
        var huge = new byte[200_000];
        Array.Fill(huge, (byte)'a');
        try
        {
            await socket.SendAsync(huge, WebSocketMessageType.Text, true, Ct);
        }
        catch (WebSocketException)
        {
            // The server may close before the whole frame is written.
        }

        var error = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error);
        Assert.Equal(ErrorCodes.TooLarge, error!.Error!.Code);
        Assert.Null(await AtlasTestHost.ReceiveAsync(socket));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    [Theory]
    [InlineData("""{"v":1,"type":"file_request","id":"f","data":{"op":"list","path":""}}""", ErrorCodes.Unauthorized)]
    [InlineData("""{"v":1,"type":"auth","id":"a","data":{"token":"st_garbage"}}""", ErrorCodes.Unauthorized)]
    [InlineData("""{"v":1,"type":"auth","id":"a"}""", ErrorCodes.Unauthorized)]
    [InlineData("nonsense", ErrorCodes.Unauthorized)]
    public async Task FirstFrameNotAValidAuth_IsRefusedAndClosed(string frame, string code)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var socket = host.NewSocket();
        await socket.ConnectAsync(host.WebSocketUri, Ct);
        await AtlasTestHost.SendTextAsync(socket, frame);
        var reply = await AtlasTestHost.ReceiveAsync(socket);
        Assert.Equal(MessageTypes.AuthFailed, reply!.Type);
        Assert.Equal(code, reply.Error!.Code);
        Assert.Null(await AtlasTestHost.ReceiveAsync(socket));
        Assert.Equal(AtlasProtocol.CloseAuthFailed, (int)socket.CloseStatus!);
    }

    [Fact]
    public async Task NoAuthFrame_ClosedAfterTimeout()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(time: time);
        using var socket = host.NewSocket();
        await socket.ConnectAsync(host.WebSocketUri, Ct);
        var receive = AtlasTestHost.ReceiveAsync(socket);
        while (!receive.IsCompleted)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(receive, Task.Delay(20, Ct));
        }

        var reply = await receive;
        Assert.Equal(ErrorCodes.AuthTimeout, reply!.Error!.Code);
        Assert.Null(await AtlasTestHost.ReceiveAsync(socket));
        Assert.Equal(AtlasProtocol.CloseAuthTimeout, (int)socket.CloseStatus!);
    }

    [Fact]
    public async Task SilentPeer_IsClosedByHeartbeat_AndExpiredSessionIsClosed()
    {
        var time = AtlasTestHost.NewFakeTime();
        await using var host = await AtlasTestHost.StartAsync(time: time);
        var (_, silentToken) = await host.ProvisionAsync("silent");
        var (silent, _) = await host.ConnectRawAsync(silentToken);
        var heartbeat = host.Get<HeartbeatService>();

        time.Advance(TimeSpan.FromSeconds(15));
        heartbeat.Beat();
        Assert.NotNull(await AtlasTestHost.ReceiveTypeAsync(silent, MessageTypes.Ping));
        time.Advance(TimeSpan.FromSeconds(46));
        heartbeat.Beat();
        Assert.Null(await AtlasTestHost.ReceiveTypeAsync(silent, "never"));
        Assert.Equal(AtlasProtocol.CloseHeartbeatTimeout, (int)silent.CloseStatus!);

        var (_, token) = await host.ProvisionAsync("expiring");
        var (socket, _) = await host.ConnectRawAsync(token);
        time.Advance(TimeSpan.FromHours(2));
        heartbeat.Beat();
        var error = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error);
        Assert.Equal(ErrorCodes.SessionExpired, error!.Error!.Code);
        Assert.Null(await AtlasTestHost.ReceiveAsync(socket));
        Assert.Equal(AtlasProtocol.CloseSessionExpired, (int)socket.CloseStatus!);
    }

    [Fact]
    public async Task AuthFrameOnLiveSocket_ExtendsSession_ButNotWithAnotherDevicesToken()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var (_, token) = await host.ProvisionAsync("renewing");
        var (_, otherToken) = await host.ProvisionAsync("other");
        var (socket, _) = await host.ConnectRawAsync(token);
        await AtlasTestHost.SendTextAsync(socket, "{\"v\":1,\"type\":\"auth\",\"id\":\"again\",\"data\":{\"token\":\"" + token + "\"}}");
        var renewed = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.AuthSuccess);
        Assert.Equal("again", renewed!.Re);
        await AtlasTestHost.SendTextAsync(socket, "{\"v\":1,\"type\":\"auth\",\"id\":\"steal\",\"data\":{\"token\":\"" + otherToken + "\"}}");
        var refused = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error);
        Assert.Equal(("steal", ErrorCodes.Unauthorized), (refused!.Re, refused.Error!.Code));
    }

    [Fact]
    public async Task Client_RenewsItsSessionOnTheLiveSocket_BeforeExpiry()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Sessions:Lifetime"] = "00:02:10" });
        var clientTime = AtlasTestHost.NewFakeTime();
        using var client = new Atlas.Client.AtlasClient(await host.PairAsync(), AtlasTestHost.ClientOptions(clientTime));
        await using var connection = await client.ConnectAsync(Ct);
        var first = await client.GetSessionAsync(Ct);

        // The client's heartbeat timer is armed on its own task; move its clock until the first heartbeat (when less
        // than two minutes of session are left) renews the session.
        var renewal = NextEventAsync(connection, MessageTypes.AuthSuccess, _ => true);
        while (!renewal.IsCompleted)
        {
            clientTime.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(renewal, Task.Delay(10, Ct));
        }

        var renewed = await renewal;
        var expires = renewed.Data!.Value.GetProperty("sessionExpiresAt").GetDateTimeOffset();
        Assert.True(expires > first.ExpiresAt);
        Assert.NotEqual(first.SessionToken, (await client.GetSessionAsync(Ct)).SessionToken);
        Assert.Equal(0, connection.Reconnects);
    }

    [Fact]
    public async Task TooManySocketsForOneDevice_AreRefused()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:WebSocket:MaxConnectionsPerDevice"] = "2" });
        var (_, token) = await host.ProvisionAsync("greedy");
        // Held until the end: a socket nothing refers to can be collected, and its finalizer closes the connection,
        // which made room for the third one (a flaky test under load).
        using var first = (await host.ConnectRawAsync(token)).Socket;
        using var second = (await host.ConnectRawAsync(token)).Socket;
        var (third, reply) = await host.ConnectRawAsync(token);
        Assert.Equal(MessageTypes.AuthFailed, reply.Type);
        Assert.Equal(ErrorCodes.TooManyConnections, reply.Error!.Code);
        Assert.Null(await AtlasTestHost.ReceiveAsync(third));
        Assert.Equal((WebSocketState.Open, WebSocketState.Open), (first.State, second.State));
    }

    [Fact]
    public async Task Client_ReconnectsAfterDrop_AndResendsPendingRequestWithSameId()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        foreach (var live in host.Get<ConnectionRegistry>().Snapshot())
        {
            live.Abort();
        }

        var reply = await Write(connection, "after-drop", "r.txt", "resent");
        Assert.Equal(MessageTypes.FileResponse, reply.Type);
        Assert.True(connection.Reconnects >= 1);
    }

    private static Task<AtlasEnvelope> Write(Atlas.Client.Connection.AtlasConnection connection, string id, string path, string text) =>
        connection.RequestAsync(MessageTypes.FileRequest, JsonSerializer.SerializeToElement(new FileRequest
        {
            Op = "write",
            Path = path,
            Content = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)),
            Overwrite = true,
        }, AtlasJsonContext.Default.FileRequest), id, Ct);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static async Task<AtlasEnvelope> NextEventAsync(Atlas.Client.Connection.AtlasConnection connection, string type, Func<AtlasEnvelope, bool> match)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Default);
        while (true)
        {
            var next = await connection.Events.ReadAsync(timeout.Token);
            if (next.Type == type && match(next))
            {
                return next;
            }
        }
    }
}
