using Microsoft.Extensions.AI;

namespace Atlas.Desktop.Chat.Tools;

/// <summary>The tools a device's messages may use (the hub's MCP tools it holds a <c>tools</c> or
/// <c>tools:&lt;serverId&gt;</c> permission for, filtered by the desktop user's consent decisions).</summary>
internal interface IChatToolProvider
{
    /// <summary>The tools to offer the model for one message of <paramref name="deviceId"/>.</summary>
    Task<IReadOnlyList<AIFunction>> GetToolsAsync(string deviceId, IReadOnlyList<string> permissions, CancellationToken cancellationToken);

    /// <summary>Checked right before each call, because permissions and consent may change while a generation runs:
    /// null when the call may go ahead, else why not (shown to the user and told to the model).</summary>
    Task<string?> CheckAsync(string deviceId, AIFunction tool, CancellationToken cancellationToken);
}

/// <summary>No tools (no hub on this desktop).</summary>
internal sealed class NoChatTools : IChatToolProvider
{
    public Task<IReadOnlyList<AIFunction>> GetToolsAsync(string deviceId, IReadOnlyList<string> permissions, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AIFunction>>([]);

    public Task<string?> CheckAsync(string deviceId, AIFunction tool, CancellationToken cancellationToken) =>
        Task.FromResult<string?>("no tools are available on this desktop");
}
