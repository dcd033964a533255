using System.ComponentModel;
using Mmcp.Server;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.TestServer;

/// <summary>Tools whose behaviour the hub's tests provoke: answers, slowness, hangs, crashes, progress and tool-list changes.</summary>
[McpServer("io.mmcp.tests.server", "Test Server", "Tools for the Mmcp hub's tests.", "1.0.0")]
[McpServerToolType]
[McpServerResourceType]
[McpServerPromptType]
internal sealed class TestTools
{
    [McpServerTool(Name = "echo", ReadOnly = true, Idempotent = true), Description("Echoes the text back.")]
    public static string Echo([Description("Text to echo")] string text) => $"echo: {text}";

    [McpServerTool(Name = "add", ReadOnly = true), Description("Adds two integers.")]
    public static int Add(int a, int b) => a + b;

    [McpServerTool(Name = "pid", ReadOnly = true), Description("Returns this server's process id.")]
    public static int Pid() => Environment.ProcessId;

    [McpServerTool(Name = "wait"), Description("Waits for the given time, or until cancelled.")]
    public static async Task<string> Wait(int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return $"waited {milliseconds} ms";
    }

    [McpServerTool(Name = "hang"), Description("Never answers and ignores cancellation.")]
    public static async Task<string> Hang()
    {
        await Task.Delay(Timeout.Infinite, CancellationToken.None);
        return "unreachable";
    }

    [McpServerTool(Name = "crash"), Description("Writes a line to standard error (after 'before' filler lines) and exits with the given code.")]
    public static string Crash(int exitCode, string message, int before = 0)
    {
        for (var i = 0; i < before; i++)
        {
            Console.Error.WriteLine($"filler line {i} of {before}");
        }

        Console.Error.WriteLine(message);
        Console.Error.Flush();
        Environment.Exit(exitCode);
        return "unreachable";
    }

    [McpServerTool(Name = "fail"), Description("Reports a tool error; with code, answers that JSON-RPC error instead (-32602 with a message about its own result, as a server that checks its structuredContent against its outputSchema does).")]
    public static string Fail(string message, int? code = null) =>
        throw (code is { } c ? new McpProtocolException(message, (McpErrorCode)c) : new McpException(message));

    [McpServerTool(Name = "progress"), Description("Reports progress in steps, then holds the call open for the given time (or until cancelled) and returns. With vendor, each notification also carries a field no revision defines (x-vendor) and _meta; with quiet, none has a message.")]
    public static async Task<string> Progress(int steps, McpServer server, RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken, int holdMilliseconds = 0, string? vendor = null, bool quiet = false)
    {
        if (request.Params?.ProgressToken is { } token)
        {
            for (var i = 1; i <= steps; i++)
            {
                if (vendor is null)
                {
                    await server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = i, Total = steps, Message = quiet ? null : $"step {i}" }, cancellationToken: cancellationToken);
                    continue;
                }

                // Written by hand: the SDK's ProgressNotificationValue has no place for the vendor's field.
                var parameters = new System.Text.Json.Nodes.JsonObject
                {
                    ["progressToken"] = System.Text.Json.JsonSerializer.SerializeToNode(token, McpJsonUtilities.GetTypeInfo<ProgressToken>(McpJsonUtilities.DefaultOptions)),
                    ["progress"] = i,
                    ["total"] = steps,
                    ["message"] = $"step {i}",
                    ["x-vendor"] = vendor,
                    ["_meta"] = new System.Text.Json.Nodes.JsonObject { ["io.example/step"] = i },
                };
                await server.SendNotificationAsync(NotificationMethods.ProgressNotification, parameters, cancellationToken: cancellationToken);
            }
        }

        await Task.Delay(holdMilliseconds, cancellationToken);
        return $"done {steps}";
    }

    [McpServerTool(Name = "log"), Description("Sends a log message (notifications/message) at each of the given levels, in order, then returns.")]
    public static async Task<string> Log(McpServer server, string[] levels, string message, CancellationToken cancellationToken, string? logger = null)
    {
        foreach (var level in levels)
        {
            await server.SendNotificationAsync(
                "notifications/message",
                new System.Text.Json.Nodes.JsonObject { ["level"] = level, ["logger"] = logger, ["data"] = message },
                cancellationToken: cancellationToken);
        }

        return $"logged {levels.Length}";
    }

    [McpServerTool(Name = "log_when_cancelled"), Description("Logs 'holding' (info), holds the call until it is cancelled, then sends a log message (notifications/message, level error) with the given text.")]
    public static async Task<string> LogWhenCancelled(McpServer server, string message, CancellationToken cancellationToken)
    {
        // Said once the call runs here, so a caller knows its cancellation will find the call.
        await server.SendNotificationAsync("notifications/message", new System.Text.Json.Nodes.JsonObject { ["level"] = "info", ["data"] = "holding" }, cancellationToken: cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await server.SendNotificationAsync(
                "notifications/message",
                new System.Text.Json.Nodes.JsonObject { ["level"] = "error", ["data"] = message },
                cancellationToken: CancellationToken.None);
            throw;
        }

        return "unreachable";
    }

    [McpServerTool(Name = "add_tool"), Description("Adds a tool with the given name (which echoes its name), so the server announces a tool-list change.")]
    public static string AddTool(McpServer server, string name)
    {
        var tools = server.ServerOptions.ToolCollection ?? throw new McpException("This server has no tool collection.");
        tools.Add(McpServerTool.Create(() => name, new McpServerToolCreateOptions { Name = name, Description = $"Added at run time: {name}." }));
        return $"added {name}";
    }

    [McpServerTool(Name = "get_env", ReadOnly = true), Description("Returns an environment variable of this server.")]
    public static string GetEnv(string name) => Environment.GetEnvironmentVariable(name) ?? "(unset)";

    [McpServerResource(UriTemplate = "test://static", Name = "static", MimeType = "text/plain"), Description("A fixed resource.")]
    public static string Static() => "static content";

    [McpServerResource(UriTemplate = "test://items/{id}", Name = "item", MimeType = "text/plain"), Description("An item by id.")]
    public static string Item(string id) => $"item {id}";

    [McpServerPrompt(Name = "greet"), Description("Greets someone.")]
    public static string Greet([Description("Who to greet")] string name) => $"Say hello to {name}";
}
