using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Atlas.Media.Tests.Description;

/// <summary>
/// A local stand-in for OpenRouter's OpenAI-compatible <c>/chat/completions</c> on a free loopback port (real
/// Kestrel, real HTTP): it records each request body and answers in the provider's wire format.
/// </summary>
internal sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeOpenAiServer(WebApplication app)
    {
        _app = app;
    }

    public List<JsonNode> Requests { get; } = [];

    public int StatusCode { get; set; } = 200;

    public string Answer { get; set; } = "A white page with a printed invoice.";

    public Uri BaseAddress => new(_app.Urls.First() + "/api/v1/");

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeOpenAiServer(app);
        app.MapPost("/api/v1/chat/completions", async (HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body);
            lock (server.Requests)
            {
                server.Requests.Add(body!);
            }

            if (server.StatusCode != 200)
            {
                context.Response.StatusCode = server.StatusCode;
                await context.Response.WriteAsJsonAsync(new { error = new { message = "No auth credentials found", code = server.StatusCode } });
                return;
            }

            var reply = new JsonObject
            {
                ["id"] = "gen-1",
                ["object"] = "chat.completion",
                ["created"] = 1_700_000_000,
                ["model"] = body!["model"]?.GetValue<string>() ?? "vision-model",
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["finish_reason"] = "stop",
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = server.Answer },
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 8, ["total_tokens"] = 18 },
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(reply.ToJsonString());
        });
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
