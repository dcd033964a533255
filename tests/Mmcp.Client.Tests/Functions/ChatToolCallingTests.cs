using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Mmcp.Client.Tests.Functions;

/// <summary>
/// The hub's functions driving a real <c>FunctionInvokingChatClient</c> against an HTTP endpoint on loopback that speaks
/// the OpenAI chat-completions wire format (the stand-in for OpenRouter, which cannot run here).
/// </summary>
[Trait("Speed", "slow")]
public sealed class ChatToolCallingTests : IAsyncLifetime
{
    private readonly TestEnvironment _env = new();
    private readonly List<JsonNode> _requests = [];
    private readonly HttpListener _llm = new();
    private Task? _serving;
    private string _endpoint = string.Empty;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var port = Servers.FreeTcpPort();
        _endpoint = $"http://127.0.0.1:{port}/api/v1";
        _llm.Prefixes.Add($"http://127.0.0.1:{port}/");
        _llm.Start();
        _serving = ServeAsync();
        await _env.WriteManifestAsync(Servers.Stdio("io.example.tools"));
    }

    public async ValueTask DisposeAsync()
    {
        _llm.Stop();
        _llm.Close();
        if (_serving is not null)
        {
            await _serving;
        }

        _env.Dispose();
    }

    [Fact]
    public async Task Chat_ModelCallsAHubTool_TheToolRunsAndItsTextReachesTheModel()
    {
        await using var hub = _env.CreateHub();
        var tools = await hub.GetAIFunctionsAsync(cancellationToken: Ct);
        using var chat = new ChatClientBuilder(new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = new Uri(_endpoint) }).GetChatClient("test/model").AsIChatClient())
            .UseFunctionInvocation()
            .Build();

        var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Echo something")], new ChatOptions { Tools = [.. tools] }, Ct);

        Assert.Equal("The tool said: echo: from the model", response.Text);
        Assert.Contains(_requests[0]["tools"]!.AsArray(), t => (string?)t!["function"]!["name"] == "io_example_tools__echo");
        var toolMessage = _requests[1]["messages"]!.AsArray().Single(m => (string?)m!["role"] == "tool")!;
        Assert.Equal("echo: from the model", (string?)toolMessage["content"]); // plain text, not {"$type":"text",...}
    }

    private async Task ServeAsync()
    {
        while (_llm.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _llm.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var body = (await JsonNode.ParseAsync(context.Request.InputStream))!;
            lock (_requests)
            {
                _requests.Add(body);
            }

            var toolMessage = body["messages"]!.AsArray().LastOrDefault(m => (string?)m!["role"] == "tool");
            var message = toolMessage is null
                ? new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "io_example_tools__echo", ["arguments"] = """{"text":"from the model"}""" } }),
                }
                : new JsonObject { ["role"] = "assistant", ["content"] = $"The tool said: {toolMessage["content"]}" };
            var reply = new JsonObject
            {
                ["id"] = "chatcmpl-1",
                ["object"] = "chat.completion",
                ["created"] = 0,
                ["model"] = "test/model",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["finish_reason"] = toolMessage is null ? "tool_calls" : "stop", ["message"] = message }),
            };
            var bytes = Encoding.UTF8.GetBytes(reply.ToJsonString());
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }
}
