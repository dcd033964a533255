using System.Text.Json;
using Microsoft.Extensions.AI;
using ModelContextProtocol;

namespace Mmcp.Client.Functions;

/// <summary>
/// One hub tool as a <see cref="AIFunction"/> named <c>&lt;serverId&gt;__&lt;tool&gt;</c>. Unlike an SDK
/// <c>McpClientTool</c>, which is bound to one connection, it calls through the hub: the server is connected lazily,
/// and a server restarted after a crash keeps working under the same function.
/// </summary>
internal sealed class HubToolFunction : AIFunction
{
    private readonly MmcpHub _hub;
    private readonly HubTool _tool;
    private readonly Dictionary<string, object?> _properties;

    public HubToolFunction(MmcpHub hub, HubTool tool)
    {
        _hub = hub;
        _tool = tool;
        _properties = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["mmcp.server"] = tool.ServerId,
            ["mmcp.tool"] = tool.ToolName,
        };
    }

    public override string Name => _tool.Name;

    public override string Description => _tool.Tool.Description ?? _tool.Tool.Title ?? string.Empty;

    public override JsonElement JsonSchema => _tool.Tool.InputSchema;

    public override JsonElement? ReturnJsonSchema => _tool.Tool.OutputSchema;

    public override JsonSerializerOptions JsonSerializerOptions => McpJsonUtilities.DefaultOptions;

    public override IReadOnlyDictionary<string, object?> AdditionalProperties => _properties;

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var result = await _hub.CallToolAsync(_tool.ServerId, _tool.ToolName, arguments, progress: null, cancellationToken).ConfigureAwait(false);
        return HubToolResults.ToFunctionResult(result);
    }
}
