using Atlas.Client.Protocol;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.AI;
using Mmcp.Client;

namespace Atlas.Desktop.Chat.Tools;

/// <summary>The Mmcp hub's tools (as <see cref="AIFunction"/>s named <c>&lt;serverId&gt;__&lt;tool&gt;</c>, called through the
/// hub so a crashed server restarts under the same function) filtered by the device's permissions: <c>tools</c> grants
/// every server, <c>tools:&lt;serverId&gt;</c> one. Each call is checked again against the device's permissions as
/// stored now, so a permission removed while an answer runs stops the next call.</summary>
internal sealed class HubChatToolProvider : IChatToolProvider
{
    public const string ServerProperty = "mmcp.server";
    private readonly MmcpHub _hub;
    private readonly IDeviceStore _devices;

    public HubChatToolProvider(MmcpHub hub, IDeviceStore devices)
    {
        _hub = hub;
        _devices = devices;
    }

    public async Task<IReadOnlyList<AIFunction>> GetToolsAsync(string deviceId, IReadOnlyList<string> permissions, CancellationToken cancellationToken)
    {
        var functions = await _hub.GetAIFunctionsAsync(null, cancellationToken).ConfigureAwait(false);
        return [.. functions.Where(f => Allows(permissions, ServerOf(f)))];
    }

    public async Task<string?> CheckAsync(string deviceId, AIFunction tool, CancellationToken cancellationToken)
    {
        var device = await _devices.GetAsync(deviceId, cancellationToken).ConfigureAwait(false);
        if (device is not { Status: DeviceRecord.Active })
        {
            return "the device is no longer paired";
        }

        var server = ServerOf(tool);
        return Allows(device.Permissions, server)
            ? null
            : $"the device lacks the '{Permissions.Tools}' or '{Permissions.ToolsServerPrefix}{server}' permission";
    }

    public static bool Allows(IReadOnlyList<string> permissions, string? server) =>
        server is not null
        && (permissions.Contains(Permissions.Tools, StringComparer.Ordinal)
            || permissions.Contains(Permissions.ToolsServerPrefix + server, StringComparer.Ordinal));

    private static string? ServerOf(AIFunction function) => function.AdditionalProperties.GetValueOrDefault(ServerProperty) as string;
}
