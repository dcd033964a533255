using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Infrastructure;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Protocol;

/// <summary>
/// A string that a phone's JavaScript cut inside an emoji (<c>"…\ud83d"</c>, one half of a surrogate pair) is valid JSON
/// but no Unicode text: every body and frame a device sends is read with the half as U+FFFD, so the request does what it
/// would have done with the character replaced, and never ends in an unhandled exception.
/// </summary>
public sealed class LoneSurrogateTests
{
    private const string Cut = "cut \\ud83d here";
    private const string Read = "cut \ufffd here";

    [Fact]
    public async Task ChatMessage_OverRest_IsAnsweredWithTheHalfReadAsReplacement()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();

        using var response = await chat.PostMessageAsync(phone.Client, "ls-1", "{\"text\":\"" + Cut + "\"}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        var frames = await ReadSseAsync(response);
        Assert.Contains(frames, f => f.Frame.Data!.Value.GetProperty("kind").GetString() == "done");
        Assert.Equal(Read, FakeRequest.Text(chat.Fake.Requests[0].Messages[^1]));
    }

    [Fact]
    public async Task ChatMessage_OverTheSocket_IsAnsweredWithTheHalfReadAsReplacement()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var session = await phone.Client.GetSessionAsync(Ct);
        var (socket, _) = await chat.Host.ConnectRawAsync(session.SessionToken);
        using (socket)
        {
            await AtlasTestHost.SendTextAsync(socket, "{\"v\":1,\"type\":\"chat_message\",\"id\":\"m1\",\"data\":{\"text\":\"" + Cut + "\"}}");
            AtlasEnvelope? frame;
            do
            {
                frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ChatResponse, MessageTypes.Error);
                Assert.NotNull(frame);
                Assert.True(frame.Type == MessageTypes.ChatResponse, frame.Data?.GetRawText());
            }
            while (frame.Data!.Value.GetProperty("kind").GetString() != "done");
        }

        Assert.Equal(Read, FakeRequest.Text(chat.Fake.Requests[0].Messages[^1]));
    }

    [Fact]
    public async Task ConversationTitle_OverRestAndTheSocket_IsStoredWithTheReplacement()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var id = (await AllAsync(phone.Chat.SendAsync(Message("hello"), cancellationToken: Ct)))[0].ConversationId!;

        using (var patch = new HttpRequestMessage(HttpMethod.Patch, $"chat/conversations/{id}") { Content = Json("{\"title\":\"" + Cut + "\"}") })
        using (var response = await phone.Client.SendAsync(patch, Ct))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        }

        Assert.Equal(Read, (await phone.Chat.ListConversationsAsync(Ct)).Single().Title);

        var session = await phone.Client.GetSessionAsync(Ct);
        var (socket, _) = await chat.Host.ConnectRawAsync(session.SessionToken);
        using (socket)
        {
            await AtlasTestHost.SendTextAsync(socket, "{\"v\":1,\"type\":\"conversation_request\",\"id\":\"c1\",\"data\":{\"op\":\"rename\",\"conversationId\":\"" + id + "\",\"title\":\"again \\udc00\"}}");
            var reply = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.ConversationResponse, MessageTypes.Error);
            Assert.NotNull(reply);
            Assert.Equal(MessageTypes.ConversationResponse, reply.Type);
        }

        Assert.Equal("again \ufffd", (await phone.Chat.ListConversationsAsync(Ct)).Single().Title);
    }

    [Fact]
    public async Task FileNames_InUploadSessionsAndMediaRequests_GetTheReplacementOrAClearError()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();

        using (var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions") { Content = Json("{\"path\":\"notes " + Cut + ".txt\",\"size\":3}") }, Ct))
        {
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
            using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            Assert.Equal("notes " + Read + ".txt", status.RootElement.GetProperty("path").GetString());
        }

        using var media = new HttpRequestMessage(HttpMethod.Post, "media/process") { Content = Json("{\"task\":\"ocr\",\"path\":\"" + Cut + ".png\"}") };
        media.Headers.Add("Idempotency-Key", "m-1");
        using (var response = await phone.Client.SendAsync(media, Ct))
        {
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"media/process answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
            Assert.NotNull((await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, Ct))?.Error.Message);
        }
    }

    [Fact]
    public async Task ProviderChunk_WithAHalfCharacter_StreamsOnWithTheReplacement()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var chunk = "data: {\"id\":\"gen-ls\",\"object\":\"chat.completion.chunk\",\"created\":1735000000,\"model\":\"m\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + Cut + "\"},\"finish_reason\":null}]}\n\n";
        chat.Fake.Enqueue(FakeReply.Stream().Role().Raw(chunk).Delta(", and on").Finish("stop").Done());

        var events = await AllAsync(phone.Chat.SendAsync(Message("hi"), cancellationToken: Ct));
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
        Assert.Equal(Read + ", and on", Text(events));
    }

    [Fact]
    public async Task BodyOfTheWrongShapeOrType_IsAClearBadRequest()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();

        using (var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions") { Content = Json("{\"path\":\"a.txt\",\"size\":\"three\"}") }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("$.size", (await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, Ct))!.Error.Message, StringComparison.Ordinal);
        }

        using (var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions") { Content = new StringContent("{\"path\":\"a.txt\",\"size\":3}", Encoding.UTF8, "text/plain") }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Content-Type: application/json", (await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, Ct))!.Error.Message, StringComparison.Ordinal);
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
