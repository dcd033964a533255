using System.Net;
using System.Net.Http.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>The model picker (<c>GET /models</c> from the provider's list), per-message models, images to vision models
/// as data URLs gated by the model's input modalities, and media results attached as context.</summary>
public sealed class MultimodalAndModelTests
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    [Fact]
    public async Task Models_ListsTheProvidersTextModels_WithVisionAndTools_DefaultFirst()
    {
        await using var chat = await StartAsync(new Dictionary<string, string?> { ["Atlas:Llm:Model"] = "anthropic/claude-3.5-sonnet" });
        var phone = await chat.PhoneAsync();
        using var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "models"), Ct);
        var models = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ModelList, Ct);

        Assert.Equal("anthropic/claude-3.5-sonnet", models!.DefaultModel);
        Assert.Equal(["anthropic/claude-3.5-sonnet", "openai/gpt-4o-mini", "meta-llama/llama-3-8b-instruct"], models.Models.Select(m => m.Id));
        var llama = models.Models[2];
        Assert.Equal((false, false, 128_000), (llama.Vision, llama.Tools, llama.ContextLength));
        Assert.Equal((true, true), (models.Models[1].Vision, models.Models[1].Tools));
    }

    [Fact]
    public async Task Send_WithAPerMessageModel_UsesIt_AndRefusesUnknownOrMalformedModels()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var events = await AllAsync(phone.Chat.SendAsync(Message("hi", model: "anthropic/claude-3.5-sonnet"), cancellationToken: Ct));
        Assert.Equal("anthropic/claude-3.5-sonnet", chat.Fake.Requests[0].Model);
        Assert.Equal("anthropic/claude-3.5-sonnet", events[0].Model);

        foreach (var model in new[] { "nobody/no-such-model", "bad model with spaces", "../../etc/passwd\n" })
        {
            var error = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(Message("hi", model: model), cancellationToken: Ct)));
            Assert.Equal(ErrorCodes.ModelUnsupported, error.Code);
        }

        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Send_WithAnImage_GoesToAVisionModelAsADataUrl_ButNotToATextOnlyModel()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        await WriteFileAsync(phone, "camera/pixel.png", Png);
        var message = Message("What is in this picture?");
        message.Attachments = [new ChatAttachment { Kind = ChatAttachment.Image, Path = "camera/pixel.png" }];

        var events = await AllAsync(phone.Chat.SendAsync(message, cancellationToken: Ct));

        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
        var parts = chat.Fake.Requests[0].Messages[^1]!["content"]!.AsArray();
        var image = parts.Single(p => (string?)p!["type"] == "image_url");
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(Png), (string?)image!["image_url"]!["url"]);
        Assert.Contains("What is in this picture?", FakeRequest.Text(chat.Fake.Requests[0].Messages[^1]), StringComparison.Ordinal);

        message.Model = "meta-llama/llama-3-8b-instruct";
        var refused = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(message, cancellationToken: Ct)));
        Assert.Equal(ErrorCodes.ModelUnsupported, refused.Code);
        Assert.Equal(1, chat.Fake.CompletionCount);
    }

    [Fact]
    public async Task Send_WithBadAttachments_IsRefusedClearly_AndChangesNothing()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        await WriteFileAsync(phone, "notes/readme.txt", "not an image"u8.ToArray());
        (ChatAttachment Attachment, string Code)[] cases =
        [
            (new() { Kind = ChatAttachment.Image, Path = "notes/readme.txt" }, ErrorCodes.BadRequest),
            (new() { Kind = ChatAttachment.Image, Path = "../../atlas.db" }, ErrorCodes.InvalidPath),
            (new() { Kind = ChatAttachment.Image, Path = "camera/missing.jpg" }, ErrorCodes.NotFound),
            (new() { Kind = "video", Path = "x.mp4" }, ErrorCodes.BadRequest),
            (new() { Kind = ChatAttachment.Context }, ErrorCodes.BadRequest),
        ];
        foreach (var (attachment, code) in cases)
        {
            var message = Message("look");
            message.Attachments = [attachment];
            var error = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(message, cancellationToken: Ct)));
            Assert.Equal(code, error.Code);
        }

        Assert.Equal(0, chat.Fake.CompletionCount);
        Assert.Empty(await phone.Chat.ListConversationsAsync(Ct));
    }

    [Fact]
    public async Task Send_WithAMediaResultAsContext_GivesTheModelTheText_AndKeepsItInTheHistory()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var message = Message("What is the total on this receipt?");
        message.Attachments = [new ChatAttachment { Kind = ChatAttachment.Context, Title = "OCR of receipt.jpg", Text = "COFFEE 3.50\nTOTAL 3.50 EUR" }];

        var events = await AllAsync(phone.Chat.SendAsync(message, cancellationToken: Ct));
        await AllAsync(phone.Chat.SendAsync(Message("And in dollars?", events[0].ConversationId), cancellationToken: Ct));

        var first = FakeRequest.Text(chat.Fake.Requests[0].Messages[^1]);
        Assert.Contains("[Attached context: OCR of receipt.jpg]", first, StringComparison.Ordinal);
        Assert.Contains("TOTAL 3.50 EUR", first, StringComparison.Ordinal);
        Assert.Contains("TOTAL 3.50 EUR", FakeRequest.Text(chat.Fake.Requests[1].Messages[1]), StringComparison.Ordinal);
        var stored = (await phone.Chat.LoadConversationAsync(events[0].ConversationId!, Ct)).Messages![0];
        Assert.Equal("OCR of receipt.jpg", stored.Attachments!.Single().Title);
    }

    [Fact]
    public async Task Send_WithAnImage_NeedsFilesRead()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        await WriteFileAsync(phone, "camera/pixel.png", Png);
        await chat.Host.Get<Atlas.Desktop.Devices.DeviceService>().SetPermissionsAsync(phone.DeviceId, [Permissions.Chat], null, Ct);
        var message = Message("see");
        message.Attachments = [new ChatAttachment { Kind = ChatAttachment.Image, Path = "camera/pixel.png" }];

        var error = await Assert.ThrowsAsync<AtlasException>(() => AllAsync(phone.Chat.SendAsync(message, cancellationToken: Ct)));
        Assert.Equal(ErrorCodes.Forbidden, error.Code);
    }

    private static async Task WriteFileAsync(Phone phone, string path, byte[] content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"files/write?path={Uri.EscapeDataString(path)}") { Content = new ByteArrayContent(content) };
        using var response = await phone.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
