using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.Server.Generators.Tests.Runtime;

/// <summary>A color.</summary>
public enum Color
{
    /// <summary>Red.</summary>
    Red,

    /// <summary>Green.</summary>
    Green,

    /// <summary>Blue.</summary>
    Blue,
}

/// <summary>Access rights, combinable.</summary>
[Flags]
public enum Access
{
    /// <summary>No access.</summary>
    None = 0,

    /// <summary>Reading.</summary>
    Read = 1,

    /// <summary>Writing.</summary>
    Write = 2,

    /// <summary>Running.</summary>
    Execute = 4,
}

/// <summary>A point on a plane.</summary>
/// <param name="X">The horizontal coordinate.</param>
/// <param name="Y">The vertical coordinate.</param>
public sealed record Point(int X, int Y);

/// <summary>A search filter with optional parts.</summary>
public sealed class Filter
{
    /// <summary>Gets or sets the text to look for.</summary>
    public required string Text { get; init; }

    /// <summary>Gets or sets the most results.</summary>
    public int Limit { get; set; } = 10;

    /// <summary>Gets the tags to match.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>Gets the color to match.</summary>
    public Color? Color { get; init; }
}

/// <summary>A greeter registered in dependency injection.</summary>
public interface IGreeter
{
    string Greet(string name);
}

public sealed class Greeter : IGreeter
{
    public string Greet(string name) => $"Hello, {name}!";
}

/// <summary>A concrete service that must be marked [FromServices].</summary>
public sealed class Counter
{
    private int _count;

    public int Next() => Interlocked.Increment(ref _count);
}

/// <summary>Signals shared between a test and the tools it calls.</summary>
public static class Signals
{
    public static TaskCompletionSource<bool> ProgressSeen { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static TaskCompletionSource<bool> WaitStarted { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static int Disposed;
}

/// <summary>A marker read back through a primitive's Metadata.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class AuditAttribute(string level) : Attribute
{
    public string Level { get; } = level;

    public bool Sensitive { get; set; }
}

/// <summary>Every parameter and result kind the generator supports, exercised through a real MCP client.</summary>
[McpServer("com.example.sample", "Sample", "Exercises the generated binding.", "3.1.0", Categories = ["testing"], Permissions = ["none"])]
[Audit("server")]
public sealed partial class SampleServer(IGreeter greeter) : IDisposable
{
    /// <summary>Echoes the text.</summary>
    /// <param name="text">The text to echo.</param>
    [McpServerTool(Name = "echo", ReadOnly = true)]
    public static string Echo(string text) => text;

    /// <summary>Adds two numbers.</summary>
    /// <param name="a">The first number.</param>
    /// <param name="b">The second number.</param>
    /// <returns>The sum.</returns>
    [McpServerTool]
    public static long AddNumbers(int a, long b = 10) => a + b;

    /// <summary>Adds as structured content.</summary>
    /// <param name="a">The first number.</param>
    /// <param name="b">The second number.</param>
    [McpServerTool(Name = "add_structured", UseStructuredContent = true)]
    public static int AddStructured(int a, int b) => a + b;

    /// <summary>Moves a point.</summary>
    /// <param name="point">The point to move.</param>
    /// <param name="dx">How far to move right.</param>
    [McpServerTool(Name = "move", UseStructuredContent = true)]
    public static Point Move(Point point, int dx = 1) => point with { X = point.X + dx };

    /// <summary>Describes a filter.</summary>
    /// <param name="filter">The filter.</param>
    [McpServerTool(Name = "describe_filter")]
    public static string DescribeFilter(Filter filter) =>
        $"{filter.Text}|{filter.Limit}|{string.Join(",", filter.Tags ?? [])}|{filter.Color?.ToString() ?? "none"}";

    /// <summary>Names a color.</summary>
    /// <param name="color">The color.</param>
    /// <param name="fallback">The color used when none is given.</param>
    [McpServerTool(Name = "color")]
    public static string ColorName(Color? color, Color fallback = Color.Green) => (color ?? fallback).ToString();

    /// <summary>Grants access rights and returns them.</summary>
    /// <param name="access">The rights, one name or several separated by commas.</param>
    [McpServerTool(Name = "grant")]
    public static Access Grant(Access access) => access;

    /// <summary>Grants access rights, by default reading and running.</summary>
    /// <param name="access">The rights.</param>
    /// <param name="extra">More rights, if any.</param>
    [McpServerTool(Name = "grant_default")]
    public static Access GrantDefault(Access access = Access.Read | Access.Execute, Access? extra = null) => access | (extra ?? Access.None);

    /// <summary>Sums numbers.</summary>
    /// <param name="values">The numbers.</param>
    /// <param name="labels">Optional labels by name.</param>
    [McpServerTool(Name = "sum")]
    public static string Sum(int[] values, Dictionary<string, string>? labels = null) =>
        $"{values.Sum()}:{(labels is null ? "-" : string.Join(",", labels.OrderBy(p => p.Key).Select(p => p.Key + "=" + p.Value)))}";

    /// <summary>Counts distinct words.</summary>
    /// <param name="words">The words.</param>
    [McpServerTool(Name = "distinct")]
    public static int Distinct(HashSet<string> words) => words.Count;

    /// <summary>Describes optional values.</summary>
    /// <param name="note">A note, possibly null.</param>
    /// <param name="when">A date.</param>
    /// <param name="id">An id.</param>
    /// <param name="span">A duration.</param>
    [McpServerTool(Name = "optional")]
    public static string Optional(string? note, DateOnly? when = null, Guid? id = null, TimeSpan? span = null) =>
        $"{note ?? "null"}|{when?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "-"}|{id?.ToString() ?? "-"}|{span?.ToString("c", System.Globalization.CultureInfo.InvariantCulture) ?? "-"}";

    /// <summary>Returns nothing.</summary>
    [McpServerTool(Name = "nothing")]
    public static void Nothing()
    {
    }

    /// <summary>Returns an image block.</summary>
    [McpServerTool(Name = "image")]
    public static ContentBlock Image() => ImageContentBlock.FromBytes(new byte[] { 1, 2, 3 }, "image/png");

    /// <summary>Returns a tool result of its own.</summary>
    [McpServerTool(Name = "custom_result")]
    public static CallToolResult CustomResult() => new() { IsError = true, Content = [new TextContentBlock { Text = "custom" }] };

    /// <summary>Returns two text blocks.</summary>
    [McpServerTool(Name = "blocks")]
    public static IEnumerable<ContentBlock> Blocks() => [new TextContentBlock { Text = "one" }, new TextContentBlock { Text = "two" }];

    /// <summary>Returns a Microsoft.Extensions.AI error.</summary>
    [McpServerTool(Name = "ai_error")]
    public static AIContent AiError() => new ErrorContent("went wrong");

    /// <summary>Returns a list.</summary>
    [McpServerTool(Name = "list")]
    public static List<string> List() => ["a", "b"];

    /// <summary>Greets through an injected interface.</summary>
    /// <param name="name">Who to greet.</param>
    [McpServerTool(Name = "greet")]
    public string Greet(string name) => greeter.Greet(name);

    /// <summary>Counts calls with a concrete service.</summary>
    /// <param name="counter">The counter.</param>
    [McpServerTool(Name = "count")]
    public static int Count([FromServices] Counter counter) => counter.Next();

    /// <summary>Reads a keyed setting.</summary>
    /// <param name="setting">The setting.</param>
    [McpServerTool(Name = "keyed")]
    public static string Keyed([FromKeyedServices("mode")] string setting) => setting;

    /// <summary>Reports the request it serves.</summary>
    /// <param name="server">The server.</param>
    /// <param name="request">The request.</param>
    /// <param name="services">The services.</param>
    [McpServerTool(Name = "whoami")]
    public static string WhoAmI(McpServer server, RequestContext<CallToolRequestParams> request, IServiceProvider services) =>
        $"{server.ClientInfo?.Name}|{request.Params?.Name}|{services is not null}";

    /// <summary>Reports progress, then waits until the client saw it.</summary>
    /// <param name="progress">Where progress goes.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    [McpServerTool(Name = "progress")]
    public static async Task<string> ReportProgressAsync(IProgress<ProgressNotificationValue> progress, CancellationToken cancellationToken)
    {
        progress.Report(new ProgressNotificationValue { Progress = 1, Total = 2, Message = "half" });
        await Signals.ProgressSeen.Task.WaitAsync(cancellationToken);
        return "done";
    }

    /// <summary>Waits until cancelled.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    [McpServerTool(Name = "wait")]
    public static async ValueTask<string> WaitAsync(CancellationToken cancellationToken)
    {
        Signals.WaitStarted.TrySetResult(true);
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return "never";
    }

    /// <summary>Fails with a message for the model.</summary>
    /// <param name="reason">Why.</param>
    [McpServerTool(Name = "fail")]
    [Audit("high", Sensitive = true)]
    public static string Fail(string reason) => throw new McpException(reason);

    /// <summary>Echoes raw JSON.</summary>
    /// <param name="value">Any JSON value.</param>
    [McpServerTool(Name = "raw")]
    public static JsonElement Raw(JsonElement value) => value;

    /// <summary>A fixed resource.</summary>
    [McpServerResource(UriTemplate = "sample://readme", Name = "readme", MimeType = "text/markdown")]
    public static string Readme() => "# Sample";

    /// <summary>An item by number.</summary>
    /// <param name="id">The item number.</param>
    /// <param name="format">The format.</param>
    [McpServerResource(UriTemplate = "sample://items/{id}{?format}", Name = "item", MimeType = "application/json")]
    public static string Item(int id, string format = "short") => $"{{\"id\":{id},\"format\":\"{format}\"}}";

    /// <summary>Greets someone.</summary>
    /// <param name="name">Who to greet.</param>
    /// <param name="times">How many times.</param>
    [McpServerPrompt(Name = "greeting")]
    public static string Greeting(string name, int times = 1) => string.Join(" ", Enumerable.Repeat($"Hi {name}.", times));

    /// <summary>A conversation starter.</summary>
    /// <param name="topic">The topic.</param>
    [McpServerPrompt(Name = "chat")]
    public static IEnumerable<ChatMessage> Chat(string topic) =>
        [new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, $"Tell me about {topic}.")];

    public void Dispose() => Interlocked.Increment(ref Signals.Disposed);
}
