using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mmcp.TestServer;

// Usage: Mmcp.TestServer stdio [--protocol VERSION] [--client-capability-tools]
//        Mmcp.TestServer socket --socket PATH [--id ID] [--register] [--protocol VERSION]
//        Mmcp.TestServer silent            (reads standard input and never answers: a hung handshake)
//        Mmcp.TestServer exit CODE MESSAGE (writes MESSAGE to standard error and exits with CODE at once)
var mode = args.FirstOrDefault() ?? "stdio";
switch (mode)
{
    case "silent":
        await Console.OpenStandardInput().CopyToAsync(Stream.Null);
        return 0;
    case "exit":
        await Console.Error.WriteLineAsync(args.ElementAtOrDefault(2) ?? "exiting");
        return int.Parse(args.ElementAtOrDefault(1) ?? "1", System.Globalization.CultureInfo.InvariantCulture);
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var protocol = Arg("--protocol");
if (mode == "socket")
{
    builder.Services.AddMmcpServerFromAttribute<TestTools>(o =>
        {
            o.SocketPath = Arg("--socket") ?? throw new ArgumentException("--socket PATH is required");
            o.Id = Arg("--id") ?? o.Id;
            o.RegisterManifest = args.Contains("--register");
        })
        .WithTools<TestTools>()
        .WithResources<TestTools>()
        .WithPrompts<TestTools>();
}
else
{
    var server = builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "io.mmcp.tests.server", Version = "1.0.0" })
        .WithStdioServerTransport()
        .WithTools<TestTools>()
        .WithResources<TestTools>()
        .WithPrompts<TestTools>();
    if (args.Contains("--client-capability-tools"))
    {
        // Tools that need sampling, elicitation or roots, listed only to clients that declare them.
        server.WithTools<ClientCapabilityTools>().WithRequestFilters(f => f.AddListToolsFilter(ClientCapabilityTools.Filter));
    }
}

if (protocol is not null)
{
    builder.Services.Configure<ModelContextProtocol.Server.McpServerOptions>(o => o.ProtocolVersion = protocol);
}

using var host = builder.Build();
host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => Console.Error.WriteLine($"ready {Environment.ProcessId}"));
await host.RunAsync();
return 0;

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
