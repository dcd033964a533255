using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atlas.Testing;

/// <summary>
/// A fake OpenRouter on real HTTP (Kestrel on a free loopback port) that reproduces the wire format and its quirks:
/// <c>POST /api/v1/chat/completions</c> streamed as SSE with <c>: OPENROUTER PROCESSING</c> comments, role-only first
/// chunks, tool-call deltas by index, usage and cost in a last chunk with empty <c>choices</c>, <c>[DONE]</c>,
/// <c>X-Generation-Id</c>; error bodies with the HTTP status of <c>error.code</c> (and <c>Retry-After</c>); error chunks
/// inside a 200 stream; delays, gates, truncation, abrupt resets, CRLF line ends and writes split at any byte (inside
/// multi-byte UTF-8 characters too). Also <c>GET /api/v1/models</c> and <c>GET /api/v1/key</c>. Replies are scripted
/// per request (<see cref="Enqueue"/>) or computed (<see cref="Responder"/>); every request is recorded, including
/// whether the client hung up before the reply ended. No test-framework dependency: the chat benchmark uses it too.
/// </summary>
public sealed class FakeOpenRouter : IAsyncDisposable
{
    public const string ApiKey = "sk-or-v1-fake-0123456789abcdef";
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeReply> _script = new();
    private readonly List<FakeRequest> _requests = [];
    private readonly Channel<FakeRequest> _arrivals = Channel.CreateUnbounded<FakeRequest>();
    private int _generation;

    private FakeOpenRouter(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The base URL to configure as <c>Atlas:Llm:BaseUrl</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Answers a completion request when the script is empty. Default: echoes the last user message.</summary>
    public Func<FakeRequest, FakeReply> Responder { get; set; } = request => FakeReply.Text("Echo: " + request.LastUserText);

    /// <summary>Require <c>Authorization: Bearer <see cref="ApiKey"/></c> on completions (OpenRouter does). Default true.</summary>
    public bool RequireKey { get; set; } = true;

    /// <summary>The models of <c>GET /api/v1/models</c>.</summary>
    public List<FakeModel> Models { get; } =
    [
        new("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", Vision: true, Tools: true),
        new("anthropic/claude-3.5-sonnet", "Anthropic: Claude 3.5 Sonnet", Vision: true, Tools: true),
        new("meta-llama/llama-3-8b-instruct", "Meta: Llama 3 8B Instruct", Vision: false, Tools: false),
        new("black-forest-labs/flux-1", "FLUX.1 (image output)", Vision: false, Tools: false, ImageOutput: true),
    ];

    /// <summary><c>limit_remaining</c> of <c>GET /api/v1/key</c>.</summary>
    public decimal KeyLimitRemaining { get; set; } = 0.5m;

    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Completion requests received so far.</summary>
    public int CompletionCount => Requests.Count;

    public static async Task<FakeOpenRouter> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var fake = new FakeOpenRouter(app);
        app.MapPost("/api/v1/chat/completions", fake.CompleteAsync);
        app.MapGet("/api/v1/models", fake.ModelsAsync);
        app.MapGet("/api/v1/key", fake.KeyAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = new Uri(address.TrimEnd('/') + "/api/v1");
        return fake;
    }

    /// <summary>Queues the reply to the next completion request.</summary>
    public void Enqueue(params FakeReply[] replies)
    {
        foreach (var reply in replies)
        {
            _script.Enqueue(reply);
        }
    }

    /// <summary>Waits for the next completion request to arrive.</summary>
    public async Task<FakeRequest> NextRequestAsync(CancellationToken cancellationToken) =>
        await _arrivals.Reader.ReadAsync(cancellationToken);

    private async Task CompleteAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body) ?? new JsonObject();
        var request = new FakeRequest(
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body);
        lock (_requests)
        {
            _requests.Add(request);
        }

        var aborted = context.RequestAborted;
        aborted.Register(() => request.SetAborted());
        _arrivals.Writer.TryWrite(request);
        try
        {
            if (RequireKey && context.Request.Headers.Authorization.ToString() != "Bearer " + ApiKey)
            {
                await FakeReply.Error(401, "No auth credentials found").WriteAsync(context, request, "gen-unauthorized");
                return;
            }

            var reply = _script.TryDequeue(out var scripted) ? scripted : Responder(request);
            var generation = "gen-" + Interlocked.Increment(ref _generation).ToString(CultureInfo.InvariantCulture);
            await reply.WriteAsync(context, request, generation);
            request.SetCompleted();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException || aborted.IsCancellationRequested)
        {
            request.SetAborted(); // the client hung up before the reply ended
        }
        finally
        {
            request.SetEnded();
        }
    }

    private IResult ModelsAsync() => Results.Text(new JsonObject
    {
        ["data"] = new JsonArray([.. Models.Select(m => (JsonNode)m.ToJson())]),
    }.ToJsonString(), "application/json");

    private IResult KeyAsync(HttpContext context) =>
        context.Request.Headers.Authorization.ToString() != "Bearer " + ApiKey
            ? Results.Text("""{"error":{"code":401,"message":"No auth credentials found"}}""", "application/json", statusCode: 401)
            : Results.Text(new JsonObject
            {
                ["data"] = new JsonObject
                {
                    ["label"] = "sk-or-v1-fak...def",
                    ["limit"] = 1,
                    ["limit_remaining"] = KeyLimitRemaining,
                    ["usage"] = 1 - KeyLimitRemaining,
                    ["is_free_tier"] = false,
                },
            }.ToJsonString(), "application/json");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>One model of <c>GET /api/v1/models</c>, in OpenRouter's shape.</summary>
public sealed record FakeModel(string Id, string Name, bool Vision, bool Tools, bool ImageOutput = false, int ContextLength = 128_000)
{
    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["canonical_slug"] = Id,
        ["name"] = Name,
        ["created"] = 1_715_367_049,
        ["description"] = Name + " (fake)",
        ["context_length"] = ContextLength,
        ["architecture"] = new JsonObject
        {
            ["modality"] = Vision ? "text+image->text" : ImageOutput ? "text->image" : "text->text",
            ["input_modalities"] = Vision ? new JsonArray("text", "image") : new JsonArray("text"),
            ["output_modalities"] = ImageOutput ? new JsonArray("image") : new JsonArray("text"),
            ["tokenizer"] = "Other",
            ["instruct_type"] = null,
        },
        ["pricing"] = new JsonObject { ["prompt"] = "0.00000015", ["completion"] = "0.0000006" },
        ["top_provider"] = new JsonObject { ["context_length"] = ContextLength, ["max_completion_tokens"] = 16384, ["is_moderated"] = true },
        ["per_request_limits"] = null,
        ["supported_parameters"] = Tools ? new JsonArray("tools", "tool_choice", "temperature", "max_tokens") : new JsonArray("temperature", "max_tokens"),
    };
}

/// <summary>A completion request as the fake received it.</summary>
public sealed class FakeRequest
{
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FakeRequest(IReadOnlyDictionary<string, string> headers, JsonNode body)
    {
        Headers = headers;
        Body = body;
    }

    public IReadOnlyDictionary<string, string> Headers { get; }

    public JsonNode Body { get; }

    public string? Model => (string?)Body["model"];

    public bool Stream => Body["stream"]?.GetValue<bool>() == true;

    public JsonArray Messages => Body["messages"]?.AsArray() ?? [];

    public JsonArray Tools => Body["tools"]?.AsArray() ?? [];

    public IEnumerable<string> ToolNames => Tools.Select(t => (string?)t?["function"]?["name"] ?? "");

    /// <summary>The text of the last user message (text parts joined).</summary>
    public string LastUserText => Text(Messages.LastOrDefault(m => (string?)m?["role"] == "user"));

    /// <summary>The tool messages (role <c>tool</c>) sent back to the model.</summary>
    public IEnumerable<JsonNode> ToolMessages => Messages.Where(m => (string?)m?["role"] == "tool").Select(m => m!);

    /// <summary>Completes when the client hung up before the reply ended (the upstream request was closed).</summary>
    public Task Aborted => _aborted.Task;

    /// <summary>Completes when the fake finished handling the request, either way.</summary>
    public Task Ended => _ended.Task;

    public bool WasAborted => _aborted.Task.IsCompleted;

    public static string Text(JsonNode? message) => message?["content"] switch
    {
        JsonValue value => (string?)value ?? "",
        JsonArray parts => string.Join("\n", parts.Where(p => (string?)p?["type"] == "text").Select(p => (string?)p?["text"])),
        _ => "",
    };

    private volatile bool _completed;

    internal void SetCompleted() => _completed = true;

    internal void SetAborted()
    {
        if (!_completed)
        {
            _aborted.TrySetResult();
        }
    }

    internal void SetEnded() => _ended.TrySetResult();
}

/// <summary>A scripted reply: an HTTP error, a JSON completion, or an SSE stream of steps.</summary>
public sealed class FakeReply
{
    private readonly List<Func<Writer, Task>> _steps = [];
    private int _status = 200;
    private string? _errorBody;
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

    private FakeReply()
    {
    }

    /// <summary>Line ends of the SSE stream (<c>\n</c> by default; <c>\r\n</c> to test CRLF).</summary>
    public string LineEnd { get; init; } = "\n";

    /// <summary>When set, every write is cut into pieces of this many bytes, each flushed on its own.</summary>
    public int? SplitWrites { get; init; }

    /// <summary>A normal streamed answer: a comment, a role chunk, the text in pieces, finish <c>stop</c>, usage, [DONE].</summary>
    public static FakeReply Text(string text, int pieces = 3, int promptTokens = 12, decimal cost = 0.000021m, string? lineEnd = null, int? splitWrites = null)
    {
        var reply = new FakeReply { LineEnd = lineEnd ?? "\n", SplitWrites = splitWrites };
        reply.Comment().Role();
        foreach (var piece in Split(text, pieces))
        {
            reply.Delta(piece);
        }

        return reply.Finish("stop").Usage(promptTokens, Math.Max(1, text.Length / 4), cost).Done();
    }

    /// <summary>An empty stream to build step by step.</summary>
    public static FakeReply Stream(string? lineEnd = null, int? splitWrites = null) => new() { LineEnd = lineEnd ?? "\n", SplitWrites = splitWrites };

    /// <summary>A pre-stream error: HTTP status = <c>error.code</c>, OpenRouter's error body, optional <c>Retry-After</c>.</summary>
    public static FakeReply Error(int status, string message, int? retryAfter = null, JsonObject? metadata = null)
    {
        var reply = new FakeReply { _status = status };
        var error = new JsonObject { ["code"] = status, ["message"] = message };
        if (metadata is not null)
        {
            error["metadata"] = metadata;
        }

        reply._errorBody = new JsonObject { ["error"] = error }.ToJsonString();
        if (retryAfter is { } seconds)
        {
            reply._headers["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return reply;
    }

    /// <summary>A streamed tool-call answer: each call's arguments split across chunks, by index, finish <c>tool_calls</c>.</summary>
    public static FakeReply ToolCalls(params (string Id, string Name, string Arguments)[] calls)
    {
        var reply = Stream().Comment().Role();
        for (var i = 0; i < calls.Length; i++)
        {
            var (id, name, arguments) = calls[i];
            var half = arguments.Length / 2;
            reply.ToolCallDelta(i, id, name, arguments[..half]).ToolCallDelta(i, null, null, arguments[half..]);
        }

        return reply.Finish("tool_calls").Usage(30, 10, 0.00001m).Done();
    }

    public FakeReply Comment(string text = "OPENROUTER PROCESSING") => Raw(": " + text + LineEnd + LineEnd);

    public FakeReply Role() => Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null);

    public FakeReply Delta(string text) => Chunk(new JsonObject { ["content"] = text }, null);

    /// <summary>A delta whose text is made when it is written (the benchmark stamps each with the write time).</summary>
    public FakeReply DeltaFrom(Func<string> text) => Step((w, generation) => w.DataAsync(new JsonObject
    {
        ["id"] = generation,
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_735_000_000,
        ["model"] = w.Model,
        ["provider"] = "FakeProvider",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = text() }, ["finish_reason"] = null }),
    }.ToJsonString()));

    public FakeReply ToolCallDelta(int index, string? id, string? name, string arguments)
    {
        var call = new JsonObject { ["index"] = index };
        if (id is not null)
        {
            call["id"] = id;
            call["type"] = "function";
        }

        var function = new JsonObject { ["arguments"] = arguments };
        if (name is not null)
        {
            function["name"] = name;
        }

        call["function"] = function;
        return Chunk(new JsonObject { ["tool_calls"] = new JsonArray(call) }, null);
    }

    public FakeReply Finish(string reason, string? native = null) => Chunk(new JsonObject(), reason, native ?? reason);

    /// <summary>The usage-only last chunk (empty <c>choices</c>), with OpenRouter's cost.</summary>
    public FakeReply Usage(int prompt, int completion, decimal cost) => Step((w, generation) => w.DataAsync(new JsonObject
    {
        ["id"] = generation,
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_735_000_000,
        ["model"] = w.Model,
        ["provider"] = "FakeProvider",
        ["choices"] = new JsonArray(),
        ["usage"] = new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completion,
            ["total_tokens"] = prompt + completion,
            ["cost"] = cost,
            ["cost_details"] = new JsonObject { ["upstream_inference_cost"] = null },
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 0, ["audio_tokens"] = 0 },
            ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
        },
    }.ToJsonString()));

    /// <summary>OpenRouter's mid-stream error: top-level <c>error</c> and <c>finish_reason: "error"</c> inside a 200.</summary>
    public FakeReply ErrorChunk(JsonNode code, string message) => Step((w, generation) => w.DataAsync(new JsonObject
    {
        ["id"] = generation,
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_735_000_000,
        ["model"] = w.Model,
        ["provider"] = "FakeProvider",
        ["error"] = new JsonObject { ["code"] = code, ["message"] = message },
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = new JsonObject { ["content"] = "" },
            ["finish_reason"] = "error",
        }),
    }.ToJsonString()));

    public FakeReply Done() => Raw("data: [DONE]" + LineEnd + LineEnd);

    public FakeReply Raw(string text) => Step((w, _) => w.WriteAsync(text));

    public FakeReply Delay(TimeSpan delay) => Step((w, _) => Task.Delay(delay, w.Aborted));

    /// <summary>Comments every <paramref name="every"/> for <paramref name="total"/> (a slow provider keeping the line alive).</summary>
    public FakeReply Trickle(TimeSpan every, TimeSpan total) => Step(async (w, _) =>
    {
        for (var waited = TimeSpan.Zero; waited < total; waited += every)
        {
            await Task.Delay(every, w.Aborted);
            await w.WriteAsync(": OPENROUTER PROCESSING" + LineEnd + LineEnd);
        }
    });

    /// <summary>Tells the test the stream got here (after flushing everything before).</summary>
    public FakeReply Signal(TaskCompletionSource reached) => Step((_, _) =>
    {
        reached.TrySetResult();
        return Task.CompletedTask;
    });

    /// <summary>Holds the stream until the test completes <paramref name="gate"/> (or the client hangs up).</summary>
    public FakeReply Gate(TaskCompletionSource gate) => Step((w, _) => gate.Task.WaitAsync(w.Aborted));

    /// <summary>Resets the connection (no [DONE], no finish reason).</summary>
    public FakeReply Abort() => Step((w, _) =>
    {
        w.Context.Abort();
        return Task.CompletedTask;
    });

    private FakeReply Chunk(JsonObject delta, string? finish, string? native = null) => Step((w, generation) => w.DataAsync(new JsonObject
    {
        ["id"] = generation,
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_735_000_000,
        ["model"] = w.Model,
        ["provider"] = "FakeProvider",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["finish_reason"] = finish,
            ["native_finish_reason"] = native,
            ["logprobs"] = null,
        }),
    }.ToJsonString()));

    private FakeReply Step(Func<Writer, string, Task> step)
    {
        _steps.Add(w => step(w, w.Generation));
        return this;
    }

    internal async Task WriteAsync(HttpContext context, FakeRequest request, string generation)
    {
        context.Response.Headers["X-Generation-Id"] = generation;
        foreach (var (name, value) in _headers)
        {
            context.Response.Headers[name] = value;
        }

        if (_errorBody is not null)
        {
            context.Response.StatusCode = _status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(_errorBody, context.RequestAborted);
            return;
        }

        var writer = new Writer(context, generation, request.Model ?? "unknown", LineEnd, SplitWrites);
        if (!request.Stream)
        {
            // A non-streaming request: the same script, collected into one chat.completion object.
            var text = new StringBuilder();
            foreach (var step in _steps)
            {
                writer.Collect = text;
                await step(writer);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(new JsonObject
            {
                ["id"] = generation,
                ["object"] = "chat.completion",
                ["created"] = 1_735_000_000,
                ["model"] = request.Model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["finish_reason"] = "stop",
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text.ToString() },
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 5, ["total_tokens"] = 15, ["cost"] = 0.00001 },
            }.ToJsonString(), context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(context.RequestAborted);
        foreach (var step in _steps)
        {
            await step(writer);
        }
    }

    private static IEnumerable<string> Split(string text, int pieces)
    {
        var runes = text.EnumerateRunes().Select(r => r.ToString()).ToList();
        var size = Math.Max(1, (int)Math.Ceiling(runes.Count / (double)Math.Max(1, pieces)));
        for (var i = 0; i < runes.Count; i += size)
        {
            yield return string.Concat(runes.Skip(i).Take(size));
        }
    }

    internal sealed class Writer(HttpContext context, string generation, string model, string lineEnd, int? split)
    {
        public HttpContext Context { get; } = context;

        public string Generation { get; } = generation;

        public string Model { get; } = model;

        public CancellationToken Aborted => Context.RequestAborted;

        public StringBuilder? Collect { get; set; }

        public Task DataAsync(string json)
        {
            if (Collect is not null)
            {
                // Usage and error chunks carry "choices": [] (OpenRouter's shape): nothing to collect from them.
                if (JsonNode.Parse(json)?["choices"] is JsonArray { Count: > 0 } choices)
                {
                    Collect.Append((string?)choices[0]?["delta"]?["content"]);
                }

                return Task.CompletedTask;
            }

            return WriteAsync("data: " + json + lineEnd + lineEnd);
        }

        public async Task WriteAsync(string text)
        {
            if (Collect is not null)
            {
                return;
            }

            var bytes = Encoding.UTF8.GetBytes(text);
            var size = split ?? bytes.Length;
            for (var i = 0; i < bytes.Length; i += size)
            {
                await Context.Response.Body.WriteAsync(bytes.AsMemory(i, Math.Min(size, bytes.Length - i)), Aborted);
                await Context.Response.Body.FlushAsync(Aborted);
            }
        }
    }
}
