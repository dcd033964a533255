using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>A prompt of one server.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Prompt">The prompt.</param>
public sealed record HubPrompt(string ServerId, Prompt Prompt);
