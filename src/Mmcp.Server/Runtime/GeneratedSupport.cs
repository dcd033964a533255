using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Runtime;

/// <summary>
/// Everything generated primitives need besides JSON: result conversions (matching the MCP SDK's reflection-based
/// primitives), argument errors, dependency injection and progress reporting.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedSupport
{
    /// <summary>The meter name shared with the rest of Mmcp.Server.</summary>
    public const string MeterName = "Mmcp.Server";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> InvalidArgumentsCounter = Meter.CreateCounter<long>(
        "mmcp.server.arguments.invalid", description: "Tool, resource and prompt requests refused because an argument was missing, null or of the wrong type.");

    // Results go to LLMs, not into HTML: keep non-ASCII text readable instead of \uXXXX escapes.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = McpJson.MaxDepth + 2 };

    /// <summary>Parses a compile-time JSON Schema.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The schema.</returns>
    public static JsonElement ParseJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Parses a compile-time <c>_meta</c> object.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The object.</returns>
    public static JsonObject? ParseMeta(string json) => JsonNode.Parse(json) as JsonObject;

    /// <summary>Creates the writer for a JSON result.</summary>
    /// <param name="buffer">The output.</param>
    /// <returns>The writer.</returns>
    public static Utf8JsonWriter CreateJsonWriter(IBufferWriter<byte> buffer) => new(buffer, WriterOptions);

    /// <summary>Creates the matcher of a resource URI template from its compile-time pattern.</summary>
    /// <param name="pattern">The regular expression.</param>
    /// <returns>The matcher.</returns>
    public static Regex UriTemplateRegex(string pattern) => new(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    /// <summary>A tool result without content.</summary>
    /// <returns>The result.</returns>
    public static CallToolResult EmptyResult() => new() { Content = [] };

    /// <summary>A text tool result.</summary>
    /// <param name="text">The text, or <see langword="null"/> for no content.</param>
    /// <returns>The result.</returns>
    public static CallToolResult TextResult(string? text) => text is null ? EmptyResult() : new() { Content = [new TextContentBlock { Text = text }] };

    /// <summary>A tool result of one content block.</summary>
    /// <param name="content">The block.</param>
    /// <returns>The result.</returns>
    public static CallToolResult ContentResult(ContentBlock? content) => content is null ? EmptyResult() : new() { Content = [content] };

    /// <summary>A tool result of content blocks.</summary>
    /// <param name="contents">The blocks.</param>
    /// <returns>The result.</returns>
    public static CallToolResult ContentsResult(IEnumerable<ContentBlock>? contents) => contents is null ? EmptyResult() : new() { Content = [.. contents] };

    /// <summary>A tool result of one Microsoft.Extensions.AI content item (an <see cref="ErrorContent"/> makes it an error).</summary>
    /// <param name="content">The item.</param>
    /// <returns>The result.</returns>
    public static CallToolResult AIContentResult(AIContent? content) =>
        content is null ? EmptyResult() : new() { Content = [content.ToContentBlock()], IsError = content is ErrorContent ? true : null };

    /// <summary>A tool result of Microsoft.Extensions.AI content items (an error when all are <see cref="ErrorContent"/>).</summary>
    /// <param name="contents">The items.</param>
    /// <returns>The result.</returns>
    public static CallToolResult AIContentsResult(IEnumerable<AIContent>? contents)
    {
        if (contents is null)
        {
            return EmptyResult();
        }

        var items = contents.ToList();
        return new() { Content = [.. items.Select(c => c.ToContentBlock())], IsError = items.Count > 0 && items.TrueForAll(c => c is ErrorContent) ? true : null };
    }

    /// <summary>A tool result carrying JSON as text and, depending on <paramref name="mode"/>, as structured content.</summary>
    /// <param name="utf8Json">The JSON.</param>
    /// <param name="mode">Whether and how the JSON is structured content too.</param>
    /// <returns>The result.</returns>
    public static CallToolResult JsonResult(ReadOnlyMemory<byte> utf8Json, StructuredContentMode mode)
    {
        var result = new CallToolResult { Content = [new TextContentBlock { Text = Encoding.UTF8.GetString(utf8Json.Span) }] };
        if (mode == StructuredContentMode.None)
        {
            return result;
        }

        using var document = JsonDocument.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = McpJson.MaxDepth + 2 });
        var root = document.RootElement;
        result.StructuredContent = mode switch
        {
            StructuredContentMode.AsObject => root.Clone(),
            StructuredContentMode.Auto => root.ValueKind == JsonValueKind.Object ? root.Clone() : null,
            _ => Wrap(root),
        };
        return result;
    }

    /// <summary>The tool result for arguments that could not be bound: an error the model can read and correct.</summary>
    /// <param name="toolName">The tool.</param>
    /// <param name="error">What was wrong.</param>
    /// <returns>The result.</returns>
    public static CallToolResult InvalidArguments(string toolName, ArgumentBindingException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        CountInvalid("tool", toolName);
        return new() { IsError = true, Content = [new TextContentBlock { Text = $"Invalid arguments for tool '{toolName}': {error.Message}." }] };
    }

    /// <summary>The protocol error for a resource or prompt request whose arguments could not be bound.</summary>
    /// <param name="kind">"resource" or "prompt".</param>
    /// <param name="name">The resource template or prompt name.</param>
    /// <param name="error">What was wrong.</param>
    /// <returns>The exception to throw.</returns>
    public static McpProtocolException InvalidParams(string kind, string name, ArgumentBindingException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return InvalidParams(kind, name, error.Message);
    }

    /// <summary>The protocol error for an invalid resource or prompt request.</summary>
    /// <param name="kind">"resource" or "prompt".</param>
    /// <param name="name">The resource template or prompt name.</param>
    /// <param name="reason">What was wrong.</param>
    /// <returns>The exception to throw.</returns>
    public static McpProtocolException InvalidParams(string kind, string name, string reason)
    {
        CountInvalid(kind, name);
        return new($"Invalid arguments for {kind} '{name}': {reason}.", McpErrorCode.InvalidParams);
    }

    /// <summary>The error for a resource or prompt method that returned null.</summary>
    /// <param name="kind">"resource" or "prompt".</param>
    /// <param name="name">The resource template or prompt name.</param>
    /// <returns>The exception to throw.</returns>
    public static McpException NoResult(string kind, string name) => new($"The {kind} '{name}' returned no result.");

    /// <summary>Returns the request's services, or explains that there are none.</summary>
    /// <param name="services">The request's services.</param>
    /// <param name="consumer">Who needs them, for the message.</param>
    /// <returns>The services.</returns>
    public static IServiceProvider RequireServices(IServiceProvider? services, string consumer) =>
        services ?? throw new InvalidOperationException($"{consumer} needs an IServiceProvider, but the request carries none; host the server with AddMmcpServer<T>() (or the SDK's AddMcpServer()) so requests have services.");

    /// <summary>Resolves a service, or returns <see langword="null"/>.</summary>
    /// <typeparam name="T">The service type.</typeparam>
    /// <param name="services">The request's services.</param>
    /// <returns>The service or <see langword="null"/>.</returns>
    public static T? GetService<T>(IServiceProvider? services) => services?.GetService(typeof(T)) is T service ? service : default;

    /// <summary>Resolves a required service, or explains how to register it.</summary>
    /// <typeparam name="T">The service type.</typeparam>
    /// <param name="services">The request's services.</param>
    /// <param name="consumer">Who needs it, for the message.</param>
    /// <returns>The service.</returns>
    public static T RequireService<T>(IServiceProvider? services, string consumer) =>
        GetService<T>(RequireServices(services, consumer)) ?? throw new InvalidOperationException(
            $"{consumer} needs a {typeof(T).Name} from dependency injection, but none is registered; register it (for example builder.Services.AddSingleton<{typeof(T).Name}>(...)) before the host is built.");

    /// <summary>Resolves a keyed service, or returns <see langword="null"/>.</summary>
    /// <typeparam name="T">The service type.</typeparam>
    /// <param name="services">The request's services.</param>
    /// <param name="key">The service key.</param>
    /// <returns>The service or <see langword="null"/>.</returns>
    public static T? GetKeyedService<T>(IServiceProvider? services, object? key) =>
        services is IKeyedServiceProvider keyed && keyed.GetKeyedService(typeof(T), key) is T service ? service : default;

    /// <summary>Resolves a required keyed service, or explains how to register it.</summary>
    /// <typeparam name="T">The service type.</typeparam>
    /// <param name="services">The request's services.</param>
    /// <param name="key">The service key.</param>
    /// <param name="consumer">Who needs it, for the message.</param>
    /// <returns>The service.</returns>
    public static T RequireKeyedService<T>(IServiceProvider? services, object? key, string consumer) =>
        GetKeyedService<T>(RequireServices(services, consumer), key) ?? throw new InvalidOperationException(
            $"{consumer} needs a {typeof(T).Name} with key '{key}' from dependency injection, but none is registered; register it with AddKeyedSingleton<{typeof(T).Name}>(\"{key}\", ...).");

    /// <summary>Progress reporting for a request: notifications when the client sent a progress token, nothing otherwise.</summary>
    /// <typeparam name="TParams">The request parameters.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels sending notifications.</param>
    /// <returns>The progress sink.</returns>
    public static IProgress<ProgressNotificationValue> Progress<TParams>(RequestContext<TParams> request, CancellationToken cancellationToken)
        where TParams : RequestParams
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Params?.ProgressToken is { } token ? new TokenProgress(request.Server, token, cancellationToken) : NullProgress.Instance;
    }

    /// <summary>A resource result of one text.</summary>
    /// <param name="text">The text.</param>
    /// <param name="uri">The requested URI.</param>
    /// <param name="mimeType">The resource's MIME type.</param>
    /// <param name="name">The resource, for errors.</param>
    /// <returns>The result.</returns>
    public static ReadResourceResult ResourceTextResult(string? text, string uri, string? mimeType, string name) =>
        text is null ? throw NoResult("resource", name) : new() { Contents = [new TextResourceContents { Uri = uri, MimeType = mimeType, Text = text }] };

    /// <summary>A resource result of several texts.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="uri">The requested URI.</param>
    /// <param name="mimeType">The resource's MIME type.</param>
    /// <param name="name">The resource, for errors.</param>
    /// <returns>The result.</returns>
    public static ReadResourceResult ResourceTextsResult(IEnumerable<string>? texts, string uri, string? mimeType, string name) =>
        texts is null ? throw NoResult("resource", name) : new() { Contents = [.. texts.Select(t => (ResourceContents)new TextResourceContents { Uri = uri, MimeType = mimeType, Text = t })] };

    /// <summary>A resource result of one contents item.</summary>
    /// <param name="contents">The contents.</param>
    /// <param name="name">The resource, for errors.</param>
    /// <returns>The result.</returns>
    public static ReadResourceResult ResourceContentsResult(ResourceContents? contents, string name) =>
        contents is null ? throw NoResult("resource", name) : new() { Contents = [contents] };

    /// <summary>A resource result of several contents items.</summary>
    /// <param name="contents">The contents.</param>
    /// <param name="name">The resource, for errors.</param>
    /// <returns>The result.</returns>
    public static ReadResourceResult ResourceContentsListResult(IEnumerable<ResourceContents>? contents, string name) =>
        contents is null ? throw NoResult("resource", name) : new() { Contents = [.. contents] };

    /// <summary>A prompt result of one user message.</summary>
    /// <param name="text">The message text.</param>
    /// <param name="description">The prompt's description.</param>
    /// <param name="name">The prompt, for errors.</param>
    /// <returns>The result.</returns>
    public static GetPromptResult PromptTextResult(string? text, string? description, string name) =>
        text is null ? throw NoResult("prompt", name) : new() { Description = description, Messages = [new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = text } }] };

    /// <summary>A prompt result of one message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="description">The prompt's description.</param>
    /// <param name="name">The prompt, for errors.</param>
    /// <returns>The result.</returns>
    public static GetPromptResult PromptMessageResult(PromptMessage? message, string? description, string name) =>
        message is null ? throw NoResult("prompt", name) : new() { Description = description, Messages = [message] };

    /// <summary>A prompt result of several messages.</summary>
    /// <param name="messages">The messages.</param>
    /// <param name="description">The prompt's description.</param>
    /// <param name="name">The prompt, for errors.</param>
    /// <returns>The result.</returns>
    public static GetPromptResult PromptMessagesResult(IEnumerable<PromptMessage>? messages, string? description, string name) =>
        messages is null ? throw NoResult("prompt", name) : new() { Description = description, Messages = [.. messages] };

    /// <summary>A prompt result of one Microsoft.Extensions.AI chat message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="description">The prompt's description.</param>
    /// <param name="name">The prompt, for errors.</param>
    /// <returns>The result.</returns>
    public static GetPromptResult ChatMessageResult(ChatMessage? message, string? description, string name) =>
        message is null ? throw NoResult("prompt", name) : new() { Description = description, Messages = [.. message.ToPromptMessages()] };

    /// <summary>A prompt result of Microsoft.Extensions.AI chat messages.</summary>
    /// <param name="messages">The messages.</param>
    /// <param name="description">The prompt's description.</param>
    /// <param name="name">The prompt, for errors.</param>
    /// <returns>The result.</returns>
    public static GetPromptResult ChatMessagesResult(IEnumerable<ChatMessage>? messages, string? description, string name) =>
        messages is null ? throw NoResult("prompt", name) : new() { Description = description, Messages = [.. messages.SelectMany(m => m.ToPromptMessages())] };

    private static void CountInvalid(string kind, string name)
    {
        if (InvalidArgumentsCounter.Enabled)
        {
            InvalidArgumentsCounter.Add(1, new TagList { { "mmcp.primitive.kind", kind }, { "mmcp.primitive.name", name } });
        }
    }

    private static JsonElement Wrap(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("result");
            value.WriteTo(writer);
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = McpJson.MaxDepth + 4 });
        return document.RootElement.Clone();
    }

    private sealed class TokenProgress(McpServer server, ProgressToken token, CancellationToken cancellationToken) : IProgress<ProgressNotificationValue>
    {
        // Fire and forget, as the SDK does: progress is best-effort and must never fail or delay the tool.
        public void Report(ProgressNotificationValue value) =>
            server.NotifyProgressAsync(token, value, cancellationToken: cancellationToken)
                .ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private sealed class NullProgress : IProgress<ProgressNotificationValue>
    {
        public static readonly NullProgress Instance = new();

        public void Report(ProgressNotificationValue value)
        {
        }
    }
}
