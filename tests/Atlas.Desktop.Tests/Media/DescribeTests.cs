using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using ImageMagick;
using ImageMagick.Drawing;
using Mmcp.Client;
using Mmcp.Core.Registry;
using ModelContextProtocol.Protocol;

namespace Atlas.Desktop.Tests.Media;

/// <summary>The <c>describe</c> task in the shipped app: the desktop's configured LLM endpoint gives the pipeline its
/// vision model, on every face (REST, WebSocket, the <c>atlas media-mcp</c> server).</summary>
[Trait("Speed", "slow")]
public sealed class DescribeTests
{
    private const string Description = "A red square on a white background with the word HELLO.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Before: nothing gave the pipeline an IChatClient, so describe answered not_available with chat working.</summary>
    [Fact]
    [Trait("Issue11", "1")]
    public async Task Rest_DescribeWithTheDesktopsLlm_SendsTheImageToTheVisionModelAndReturnsItsText()
    {
        await using var chat = await ChatHost.StartAsync();
        chat.Fake.Enqueue(FakeReply.Text(Description));
        using var client = await chat.Host.PairClientAsync();

        var answer = await ProcessAsync(client, new JsonObject { ["task"] = "describe", ["content"] = Convert.ToBase64String(Picture()), ["fileName"] = "square.png" });

        var description = answer.GetProperty("result").GetProperty("description");
        Assert.Equal(Description, description.GetProperty("text").GetString());
        var request = Assert.Single(chat.Fake.Requests);
        Assert.Equal("openai/gpt-4o-mini", request.Model);
        AssertCarriesJpeg(request);
    }

    /// <summary>A video is described from its scene frames, each sent to the vision model as a picture.</summary>
    [Fact]
    [Trait("Issue11", "1")]
    public async Task Rest_DescribeVideo_SendsItsSceneFramesToTheVisionModel()
    {
        await using var chat = await ChatHost.StartAsync();
        chat.Fake.Enqueue(FakeReply.Text(Description));
        using var client = await chat.Host.PairClientAsync();
        var video = await MediaProcessingTests.GenerateVideoAsync();

        var answer = await ProcessAsync(client, new JsonObject { ["task"] = "describe", ["content"] = Convert.ToBase64String(video), ["fileName"] = "clip.mp4" });

        Assert.Equal(Description, answer.GetProperty("result").GetProperty("description").GetProperty("text").GetString());
        AssertCarriesJpeg(Assert.Single(chat.Fake.Requests));
    }

    /// <summary>Before: context with includeDescription silently dropped the description although an LLM was configured.</summary>
    [Fact]
    [Trait("Issue11", "1")]
    public async Task WebSocket_ContextWithDescription_UsesTheConfiguredDescribeModelAndPutsTheTextInTheCard()
    {
        await using var chat = await ChatHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Media:DescribeModel"] = "anthropic/claude-3.5-sonnet" });
        chat.Fake.Enqueue(FakeReply.Text(Description));
        var (deviceId, token) = await chat.Host.ProvisionAsync("Phone");
        await chat.Host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess], null, Ct);
        var (socket, _) = await chat.Host.ConnectRawAsync(token);
        using var _socket = socket;

        await AtlasTestHost.SendAsync(socket, new AtlasEnvelope
        {
            Type = MessageTypes.MediaProcess,
            Id = "d-1",
            Data = JsonSerializer.SerializeToElement(new JsonObject
            {
                ["task"] = "context",
                ["content"] = Convert.ToBase64String(Picture()),
                ["fileName"] = "square.png",
                ["context"] = new JsonObject { ["includeDescription"] = true },
            }),
        });
        JsonElement result;
        while (true)
        {
            var frame = await AtlasTestHost.ReceiveTypeAsync(socket, MessageTypes.MediaResult, MessageTypes.Error);
            Assert.NotNull(frame);
            Assert.True(frame.Type == MessageTypes.MediaResult, frame.Data?.ToString());
            if (frame.Data!.Value.GetProperty("done").GetBoolean())
            {
                result = frame.Data.Value.GetProperty("result");
                break;
            }
        }

        Assert.Equal(Description, result.GetProperty("description").GetProperty("text").GetString());
        Assert.Contains(Description, result.GetProperty("context").GetProperty("text").GetString(), StringComparison.Ordinal);
        var request = Assert.Single(chat.Fake.Requests);
        Assert.Equal("anthropic/claude-3.5-sonnet", request.Model);
        AssertCarriesJpeg(request);
    }

    /// <summary>A text-only describe model is refused up front with model_unsupported (nothing is sent to the provider).</summary>
    [Fact]
    [Trait("Issue11", "1")]
    public async Task Rest_TextOnlyDescribeModel_RefusedWithModelUnsupported()
    {
        await using var chat = await ChatHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Media:DescribeModel"] = "meta-llama/llama-3-8b-instruct" });
        using var client = await chat.Host.PairClientAsync();

        using var response = await PostAsync(client, new JsonObject { ["task"] = "describe", ["content"] = Convert.ToBase64String(Picture()), ["fileName"] = "square.png" });

        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.False(response.IsSuccessStatusCode, body);
        Assert.Equal(ErrorCodes.ModelUnsupported, await AtlasTestHost.ErrorCodeAsync(response));
        Assert.Contains("meta-llama/llama-3-8b-instruct", body, StringComparison.Ordinal);
        Assert.Contains("Atlas:Media:DescribeModel", body, StringComparison.Ordinal);
        Assert.Empty(chat.Fake.Requests);
    }

    /// <summary>Without an LLM the answer says so (not_available); context with includeDescription says the description
    /// was left out instead of dropping it silently.</summary>
    [Fact]
    [Trait("Issue11", "1")]
    public async Task Rest_NoLlmConfigured_DescribeNotAvailableAndContextSaysTheDescriptionWasLeftOut()
    {
        await using var host = await AtlasTestHost.StartAsync(new Dictionary<string, string?> { ["Atlas:Llm:ApiKey"] = "" });
        using var client = await host.PairClientAsync();

        using var describe = await PostAsync(client, new JsonObject { ["task"] = "describe", ["content"] = Convert.ToBase64String(Picture()), ["fileName"] = "a.png" });
        var context = await ProcessAsync(client, new JsonObject
        {
            ["task"] = "context",
            ["content"] = Convert.ToBase64String(Picture()),
            ["fileName"] = "a.png",
            ["context"] = new JsonObject { ["includeDescription"] = true },
        });

        Assert.Equal(ErrorCodes.NotAvailable, await AtlasTestHost.ErrorCodeAsync(describe));
        var warnings = context.GetProperty("result").GetProperty("warnings").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.Contains(warnings, w => w!.Contains("description", StringComparison.OrdinalIgnoreCase) && w.Contains("Atlas:Llm", StringComparison.Ordinal));
    }

    /// <summary>The describe MCP tool of <c>atlas media-mcp</c> uses the Atlas:Llm settings of its process.</summary>
    [Fact]
    [Trait("Issue11", "1")]
    public async Task MediaMcp_DescribeTool_UsesTheConfiguredLlm()
    {
        await using var fake = await FakeOpenRouter.StartAsync(Ct);
        fake.Enqueue(FakeReply.Text(Description));
        var root = Directory.CreateTempSubdirectory("amd-").FullName;
        var registry = Path.Combine(root, "reg");
        var runtime = Path.Combine(root, "run");
        var allowed = Directory.CreateDirectory(Path.Combine(root, "pictures")).FullName;
        var picture = Path.Combine(allowed, "square.png");
        await File.WriteAllBytesAsync(picture, Picture(), Ct);
        ProcessStartInfo Atlas(params string[] extra)
        {
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "atlas.dll"), "--data-dir", Path.Combine(root, "data"), "media-mcp", "--allow", allowed, .. extra])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            start.Environment["MMCP_REGISTRY_PATH"] = registry;
            start.Environment["MMCP_RUNTIME_DIR"] = runtime;
            start.Environment["Atlas__Llm__BaseUrl"] = fake.BaseUrl.ToString();
            start.Environment["Atlas__Llm__ApiKey"] = FakeOpenRouter.ApiKey;
            return start;
        }

        using (var register = Process.Start(Atlas("--mmcp-register"))!)
        {
            var output = register.StandardError.ReadToEndAsync(Ct);
            await register.StandardOutput.ReadToEndAsync(Ct);
            await register.WaitForExitAsync(Ct);
            Assert.True(register.ExitCode == 0, await output);
        }

        using var server = Process.Start(Atlas())!;
        try
        {
            var socket = Path.Combine(runtime, "io.mmcp.atlas.media.sock");
            var ready = await ReadUntilAsync(server.StandardError, line => File.Exists(socket));
            Assert.True(ready, "the media server did not start listening on " + socket);

            await using var hub = MmcpHub.Create(new MmcpHubOptions
            {
                Registry = new RegistryOptions
                {
                    Environment = new MmcpEnvironment(n => n switch { "MMCP_REGISTRY_PATH" => registry, "MMCP_RUNTIME_DIR" => runtime, _ => Environment.GetEnvironmentVariable(n) }, root),
                    ImportClientConfigs = false,
                },
                WatchRegistry = false,
                CacheDirectory = Path.Combine(root, "cache"),
                LaunchTimeout = TestTimeouts.Default,
            });
            var result = await hub.CallToolAsync("io.mmcp.atlas.media", "describe", new Dictionary<string, object?> { ["path"] = picture }, cancellationToken: Ct);

            var text = string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));
            Assert.True(result.IsError != true, text);
            Assert.Contains(Description, text, StringComparison.Ordinal);
            AssertCarriesJpeg(Assert.Single(fake.Requests));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync(CancellationToken.None);
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Reads the server's log lines until <paramref name="done"/> holds (checked after each line and at exit).</summary>
    private static async Task<bool> ReadUntilAsync(StreamReader reader, Func<string, bool> done)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Default);
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            TestContext.Current.TestOutputHelper?.WriteLine(line);
            if (done(line))
            {
                return true;
            }
        }

        return done(string.Empty);
    }

    private static void AssertCarriesJpeg(FakeRequest request)
    {
        var parts = request.Messages.Last()!["content"]!.AsArray();
        var image = parts.Select(p => (string?)p?["image_url"]?["url"]).First(u => u is not null)!;
        Assert.StartsWith("data:image/jpeg;base64,", image, StringComparison.Ordinal);
        var jpeg = Convert.FromBase64String(image["data:image/jpeg;base64,".Length..]);
        using var decoded = new MagickImage(jpeg);
        Assert.Equal(MagickFormat.Jpeg, decoded.Format);
        Assert.True(decoded.Width >= 100, "the picture itself reached the model");
    }

    private static byte[] Picture()
    {
        using var image = new MagickImage(MagickColors.White, 320, 240);
        new Drawables().FillColor(MagickColors.Red).Rectangle(60, 40, 260, 200).FillColor(MagickColors.White).FontPointSize(36).Text(100, 135, "HELLO").Draw(image);
        return image.ToByteArray(MagickFormat.Png);
    }

    private static async Task<JsonElement> ProcessAsync(AtlasClient client, JsonObject body)
    {
        using var response = await PostAsync(client, body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private static Task<HttpResponseMessage> PostAsync(AtlasClient client, JsonObject body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "media/process") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        return client.SendAsync(request, Ct);
    }
}
