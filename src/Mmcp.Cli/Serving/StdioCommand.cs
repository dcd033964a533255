using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mmcp.Cli.Application;
using Mmcp.Gateway;
using Shared.Cli;

namespace Mmcp.Cli.Serving;

/// <summary>
/// <c>mmcp stdio</c>: the aggregated hub as one stdio MCP server, so Claude Desktop, VS Code, Cursor and any MCP client
/// reach every local server through one entry in their configuration. Standard output carries only the protocol;
/// logs go to standard error.
/// </summary>
internal static class StdioCommand
{
    public static Command Create(GlobalOptions global)
    {
        var toolMode = new Option<GatewayToolMode>("--tool-mode") { Description = "all: every tool; search: only search_tools and call_tool.", DefaultValueFactory = _ => GatewayToolMode.All }.ParsedAsChoice();
        var lexical = new Option<bool>("--lexical-search") { Description = "With --tool-mode search: rank search_tools with BM25 alone, without the local embedding model (less memory, no model load)." };
        var stores = new StoreOptions(tokens: false);
        var command = new Command("stdio", "Serve the aggregated hub as one MCP server over standard input and output (for an MCP client's configuration: {\"command\": \"mmcp\", \"args\": [\"stdio\"]}).") { toolMode, lexical };
        stores.AddTo(command);
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(toolMode), parse.GetValue(lexical), stores.Read(parse), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, GatewayToolMode toolMode, bool lexicalSearch, StoreSettings stores, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        HostLogging.Configure(builder.Logging, context.Verbose); // standard error: standard output is the protocol channel
        Shared.Telemetry.OpenTelemetrySetup.AddOpenTelemetry(builder.Services, builder.Configuration, "mmcp-stdio", prometheus: false, aspNetCore: false);
        builder.Services.AddMmcpHub(o => context.ConfigureHub(o, "mmcp-stdio", watchRegistry: true));
        builder.Services.AddMmcpGatewayStdio(o =>
        {
            o.ToolMode = toolMode;
            o.SearchEmbeddings = !lexicalSearch;
            stores.Apply(o);
        });

        // RunAsync disposes the host when the client closes standard input, and with it the audit log (which flushes).
        using var host = builder.Build();
        await host.RunAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
