// Sampling, roots and logging are deprecated by the 2026-07-28 spec (MCP9005) but live on 2025-era connections.
#pragma warning disable MCP9005

using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>
/// How the hub answers the requests a server sends on its shared connection (sampling, elicitation, roots), and where
/// the notifications it does not handle itself go (log messages, resource updates). Set it with
/// <see cref="MmcpHub.ServerRequests"/> before the first connection: a connection declares the capabilities of the
/// handlers present when it opens. Without handlers the hub declares none, as before.
/// </summary>
public sealed class HubServerRequests
{
    /// <summary>Gets or sets the handler of <c>sampling/createMessage</c>: the server id and the request's parameters.</summary>
    public Func<string, CreateMessageRequestParams, CancellationToken, ValueTask<CreateMessageResult>>? Sampling { get; set; }

    /// <summary>Gets or sets the handler of <c>elicitation/create</c>: the server id and the request's parameters.</summary>
    public Func<string, ElicitRequestParams, CancellationToken, ValueTask<ElicitResult>>? Elicitation { get; set; }

    /// <summary>Gets or sets the handler of <c>roots/list</c>: the server id and the request's parameters.</summary>
    public Func<string, ListRootsRequestParams, CancellationToken, ValueTask<ListRootsResult>>? Roots { get; set; }

    /// <summary>
    /// Gets or sets a callback for <c>notifications/message</c> and <c>notifications/resources/updated</c> from a
    /// server's shared connection: the server id, the method and the parameters (a copy the callback may keep). It runs
    /// on the transport's reader in arrival order (so a log message of a call is seen before the call's result): keep
    /// it short and never block.
    /// </summary>
    public Action<string, string, JsonNode?>? Notification { get; set; }
}
