// Sampling and roots are deprecated by the 2026-07-28 spec (MCP9005) but live on 2025-era connections, as the gateway serves them.
#pragma warning disable MCP9005

using System.ComponentModel;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Mmcp.TestServer;

/// <summary>
/// Tools offered only to clients that declare the capability each needs (as server-everything offers its sampling,
/// elicitation and roots tools), with <c>--client-capability-tools</c>: a client that declares less lists fewer tools.
/// </summary>
[McpServerToolType]
internal sealed class ClientCapabilityTools
{
    /// <summary>Hides from <c>tools/list</c> each tool whose capability the client did not declare.</summary>
    public static McpRequestHandler<ListToolsRequestParams, ListToolsResult> Filter(McpRequestHandler<ListToolsRequestParams, ListToolsResult> next) =>
        async (request, cancellationToken) =>
        {
            var result = await next(request, cancellationToken);
            var declared = request.JsonRpcRequest.Context?.ClientCapabilities ?? request.Server.ClientCapabilities;
            result.Tools = [.. result.Tools.Where(t => t.Name switch
            {
                "ask_model" => declared?.Sampling is not null,
                "ask_user" => declared?.Elicitation is not null,
                "list_roots" => declared?.Roots is not null,
                _ => true,
            })];
            return result;
        };

    [McpServerTool(Name = "ask_model"), Description("Sends sampling/createMessage to the client and returns its answer, or the error it answered with. Listed only to clients that declare sampling.")]
    public static async Task<string> AskModel(McpServer server, string prompt, CancellationToken cancellationToken)
    {
        try
        {
            var result = await server.SampleAsync(
                new CreateMessageRequestParams { Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }], MaxTokens = 100 },
                cancellationToken);
            return "model: " + string.Concat(result.Content.OfType<TextContentBlock>().Select(c => c.Text));
        }
        catch (McpProtocolException ex)
        {
            throw new McpException($"The client answered sampling/createMessage with error {(int)ex.ErrorCode}: {ex.Message}");
        }
    }

    [McpServerTool(Name = "ask_user"), Description("Listed only to clients that declare elicitation.")]
    public static string AskUser() => "not asked";

    [McpServerTool(Name = "list_roots"), Description("Listed only to clients that declare roots.")]
    public static string ListRoots() => "not listed";
}
