using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Atlas.Media.Tests.Description;

[Trait("Speed", "slow")]
public sealed class DescribeTests(MediaFixture media)
{
    private static IChatClient Client(FakeOpenAiServer server) =>
        new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = server.BaseAddress, RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) })
            .GetChatClient("openai/gpt-4o-mini").AsIChatClient();

    [Fact]
    public async Task Describe_Image_SendsDownscaledJpegAndPromptAndReturnsAnswer()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var harness = new PipelineHarness(o => o.DescribeMaxImageSide = 256, chat: Client(server));
        var result = await harness.RunAsync(MediaTask.Describe, media.TextPng, r => r with { Describe = new() { Prompt = "What document is this?" } });
        Assert.Equal(server.Answer, result.Description!.Text);
        Assert.Equal(1, result.Description.ImagesSent);
        var request = Assert.Single(server.Requests);
        var parts = request["messages"]![0]!["content"]!.AsArray();
        Assert.Contains(parts, p => p!["type"]!.GetValue<string>() == "text" && p["text"]!.GetValue<string>().StartsWith("What document is this?", StringComparison.Ordinal));
        var url = parts.Single(p => p!["type"]!.GetValue<string>() == "image_url")!["image_url"]!["url"]!.GetValue<string>();
        Assert.StartsWith("data:image/jpeg;base64,", url, StringComparison.Ordinal);
        using var sent = OpenCvSharp.Cv2.ImDecode(Convert.FromBase64String(url["data:image/jpeg;base64,".Length..]), OpenCvSharp.ImreadModes.Color);
        Assert.Equal(256, Math.Max(sent.Width, sent.Height));

        var again = await harness.RunAsync(MediaTask.Describe, media.TextPng, r => r with { Describe = new() { Prompt = "What document is this?" } });
        Assert.True(again.FromCache);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Describe_Video_SendsItsSceneFrames()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var harness = new PipelineHarness(chat: Client(server));
        var result = await harness.RunAsync(MediaTask.Describe, media.VideoMp4);
        Assert.Equal(3, result.Description!.ImagesSent);
        var parts = Assert.Single(server.Requests)["messages"]![0]!["content"]!.AsArray();
        Assert.Equal(3, parts.Count(p => p!["type"]!.GetValue<string>() == "image_url"));
    }

    [Fact]
    public async Task Describe_ProviderRejectsKey_FailsWithLlmFailed()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        server.StatusCode = 401;
        await using var harness = new PipelineHarness(chat: Client(server));
        var ex = await Assert.ThrowsAsync<MediaException>(() => harness.RunAsync(MediaTask.Describe, media.TextPng));
        Assert.Equal(MediaErrorCode.LlmFailed, ex.Code);
    }

    [Fact]
    public async Task Describe_WithoutChatClient_FailsWithLlmUnavailable()
    {
        await using var harness = new PipelineHarness();
        var ex = await Assert.ThrowsAsync<MediaException>(() => harness.RunAsync(MediaTask.Describe, media.TextPng));
        Assert.Equal(MediaErrorCode.LlmUnavailable, ex.Code);
    }
}
