using System.Net;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Atlas.Desktop.Tests.Realtime;

/// <summary>An unexpected fault while handling one request is that request's answer (<c>internal_error</c>), over the
/// socket and REST; the socket stays open.</summary>
public sealed class RequestFaultTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression (trial F1): a fault in a request handled inline (conversation_request, file_request,
    /// chat_cancel) left the receive loop, which closed the socket without an answer; Atlas.Client resends unanswered
    /// requests after its reconnect, so the same request closed socket after socket until the frame budget ran out. REST
    /// answered such a fault with an empty 500.</summary>
    [Fact]
    public async Task InlineRequest_UnexpectedFault_IsAnsweredWithInternalError_AndTheSocketStaysOpen()
    {
        await using var host = await AtlasTestHost.StartAsync(configure: builder => builder.Services.AddSingleton<IChatService, FaultyChat>());
        var (_, token) = await host.ProvisionAsync("Phone");
        var (socket, _) = await host.ConnectRawAsync(token);
        using var _socket = socket;

        await AtlasTestHost.SendTextAsync(socket, """{"v":1,"type":"conversation_request","id":"c-1","data":{"op":"list"}}""");
        var error = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Error, MessageTypes.ConversationResponse);
        Assert.NotNull(error);
        Assert.Equal(("c-1", ErrorCodes.InternalError), (error.Re, error.Error!.Code));

        await AtlasTestHost.SendTextAsync(socket, """{"v":1,"type":"ping","id":"p-1"}""");
        var pong = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.Pong);
        Assert.Equal("p-1", pong?.Re);

        using var http = host.PinnedHttp();
        using var request = new HttpRequestMessage(HttpMethod.Get, "chat/conversations");
        request.Headers.Authorization = new("Bearer", token);
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(ErrorCodes.InternalError, await AtlasTestHost.ErrorCodeAsync(response));
    }

    private sealed class FaultyChat : IChatService
    {
        public IAsyncEnumerable<JsonElement> SendAsync(ChatRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("fault");

        public IAsyncEnumerable<JsonElement> ResumeAsync(ChatRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("fault");

        public Task<JsonElement> CancelAsync(ChatRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("fault");

        public Task<JsonElement> ConversationAsync(ChatRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("fault");
    }
}
