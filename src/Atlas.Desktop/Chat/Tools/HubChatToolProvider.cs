using Atlas.Client.Protocol;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.AI;
using Mmcp.Client;
using Mmcp.Client.Consent;

namespace Atlas.Desktop.Chat.Tools;

/// <summary>The Mmcp hub's tools (as <see cref="AIFunction"/>s named <c>&lt;serverId&gt;__&lt;tool&gt;</c>, called through the
/// hub so a crashed server restarts under the same function) filtered by the device's permissions (<c>tools</c> grants
/// every server, <c>tools:&lt;serverId&gt;</c> one) and by the desktop user's consent decisions, kept in the same store as
/// <c>mmcp consent</c> and the admin UI. A denied tool, or one whose definition changed since it was approved, is not
/// offered to the model. Each call is checked again against the permissions and consent as stored now, so a permission
/// removed or a tool denied while an answer runs stops the next call with a visible <c>tool_denied</c>.</summary>
internal sealed class HubChatToolProvider : IChatToolProvider
{
    public const string ServerProperty = "mmcp.server";
    public const string ToolProperty = "mmcp.tool";
    private readonly MmcpHub _hub;
    private readonly IDeviceStore _devices;
    private readonly ConsentStore _consent;

    public HubChatToolProvider(MmcpHub hub, IDeviceStore devices, ConsentStore consent)
    {
        _hub = hub;
        _devices = devices;
        _consent = consent;
    }

    public async Task<IReadOnlyList<AIFunction>> GetToolsAsync(string deviceId, IReadOnlyList<string> permissions, CancellationToken cancellationToken)
    {
        var listing = await _hub.ListToolsAsync(null, cancellationToken).ConfigureAwait(false);
        var offered = new List<AIFunction>();
        foreach (var tool in listing.Tools)
        {
            if (!Allows(permissions, tool.ServerId))
            {
                continue;
            }

            // Evaluate (not Check): under trust-on-first-use, offering a tool is its first use, so its definition is pinned now.
            var hash = ConsentStore.ComputeHash(tool.Tool);
            if (_consent.Evaluate(tool.ServerId, tool.Tool, hash).IsAllowed)
            {
                offered.Add(new HubChatTool(_hub.CreateAIFunction(tool), tool, hash));
            }
        }

        return offered;
    }

    public async Task<string?> CheckAsync(string deviceId, AIFunction tool, CancellationToken cancellationToken)
    {
        var device = await _devices.GetAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (device is not { Status: DeviceRecord.Active })
        {
            return "the device is no longer paired";
        }

        var server = ServerOf(tool);
        if (!Allows(device.Permissions, server))
        {
            return $"the device lacks the '{Permissions.Tools}' or '{Permissions.ToolsServerPrefix}{server}' permission";
        }

        if (tool is HubChatTool hubTool)
        {
            var consent = _consent.Evaluate(hubTool.Tool.ServerId, hubTool.Tool.Tool, hubTool.Hash);
            if (!consent.IsAllowed)
            {
                return $"{consent.Message} It can also be allowed under MCP servers in the Atlas admin UI";
            }
        }

        return null;
    }

    public static bool Allows(IReadOnlyList<string> permissions, string? server) =>
        server is not null
        && (permissions.Contains(Permissions.Tools, StringComparer.Ordinal)
            || permissions.Contains(Permissions.ToolsServerPrefix + server, StringComparer.Ordinal));

    private static string? ServerOf(AIFunction function) => function.AdditionalProperties.GetValueOrDefault(ServerProperty) as string;

    /// <summary>One hub tool as offered to the model: the definition (and its consent hash) as it was when offered, so the
    /// call-time check judges exactly what the model saw.</summary>
    private sealed class HubChatTool(AIFunction function, HubTool tool, string hash) : DelegatingAIFunction(function)
    {
        public HubTool Tool { get; } = tool;

        public string Hash { get; } = hash;
    }
}
