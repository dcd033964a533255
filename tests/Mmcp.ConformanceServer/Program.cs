using System.Collections.Concurrent;
using Mmcp.ConformanceServer;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

// The conformance target: the surface @modelcontextprotocol/conformance calls, in three ways:
//   (default)      an Mmcp socket server that registers its manifest (what the gateway fronts in the tests),
//   --stdio        a plain stdio MCP server,
//   --http PORT    Streamable HTTP on 127.0.0.1 (stateful sessions), to check the suite against the server itself.
if (args.Contains("--stdio"))
{
    var builder = Host.CreateApplicationBuilder(args);
    builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // stdout is the protocol channel
    ConformanceSurface.Add(builder.Services.AddMcpServer(o => o.ServerInfo = ConformanceSurface.Info).WithStdioServerTransport());
    await builder.Build().RunAsync();
    return 0;
}

var httpIndex = Array.IndexOf(args, "--http");
if (httpIndex >= 0)
{
    var port = httpIndex + 1 < args.Length && int.TryParse(args[httpIndex + 1], out var p) ? p : 0;
    var builder = WebApplication.CreateSlimBuilder(args);
    builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
    ConformanceSurface.Add(builder.Services.AddMcpServer(o => o.ServerInfo = ConformanceSurface.Info)
        .WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.Stateful));
    var app = builder.Build();
    app.Use(LoopbackOnly);
    app.MapMcp("/mcp");
    await app.StartAsync();
    Console.WriteLine($"listening on {app.Urls.First()}/mcp");
    await app.WaitForShutdownAsync();
    return 0;
}

var socketBuilder = Host.CreateApplicationBuilder(args);
socketBuilder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
ConformanceSurface.Add(socketBuilder.Services.AddMmcpServer(o =>
{
    o.Id = ConformanceSurface.Id;
    o.Name = "MCP conformance target";
    o.Description = "The tools, resources and prompts the official MCP conformance suite calls.";
    o.Version = ConformanceSurface.Info.Version;
}));
return await socketBuilder.Build().RunMmcpAsync(args);

// DNS-rebinding protection for the direct HTTP mode: only loopback Host and Origin values are served.
static Task LoopbackOnly(HttpContext context, Func<Task> next)
{
    static bool IsLoopback(string host) => host is "localhost" or "127.0.0.1" or "[::1]";
    var host = context.Request.Host.Host;
    var origin = context.Request.Headers.Origin.ToString();
    var originOk = origin.Length == 0 || (Uri.TryCreate(origin, UriKind.Absolute, out var o) && IsLoopback(o.Host == "::1" ? "[::1]" : o.Host));
    if (!IsLoopback(host) || !originOk)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }

    return next();
}

namespace Mmcp.ConformanceServer
{
    /// <summary>Registers the conformance surface on any MCP server builder.</summary>
    internal static class ConformanceSurface
    {
        public const string Id = "io.mmcp.conformance";

        public static Implementation Info { get; } = new() { Name = Id, Title = "MCP conformance target", Version = "1.0.0" };

        public static void Add(IMcpServerBuilder builder)
        {
            var subscriptions = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
            builder
                .WithTools<ConformanceTools>()
                .WithTools([new JsonSchemaTool()])
                .WithResources<ConformanceResources>()
                .WithPrompts<ConformancePrompts>()
                .WithCompleteHandler((request, _) =>
                {
                    string[] candidates = request.Params?.Argument.Name == "arg1" ? ["paris", "park", "party"] : ["hello", "help", "helium"];
                    var prefix = request.Params?.Argument.Value ?? string.Empty;
                    var values = candidates.Where(v => v.StartsWith(prefix, StringComparison.Ordinal)).ToList();
                    return ValueTask.FromResult(new CompleteResult { Completion = new Completion { Values = values, Total = values.Count, HasMore = false } });
                })
                .WithSubscribeToResourcesHandler((request, _) =>
                {
                    subscriptions.TryAdd(request.Params!.Uri, 0);
                    return ValueTask.FromResult(new EmptyResult());
                })
                .WithUnsubscribeFromResourcesHandler((request, _) =>
                {
                    subscriptions.TryRemove(request.Params!.Uri, out byte _);
                    return ValueTask.FromResult(new EmptyResult());
                })
                .WithSetLoggingLevelHandler((_, _) => ValueTask.FromResult(new EmptyResult()));
        }
    }
}
