using Mmcp.Core.Manifests;

namespace Mmcp.Client;

/// <summary>The outcome of discovery: the servers and every problem found in every source.</summary>
/// <param name="Servers">The servers, ordered by id.</param>
/// <param name="Diagnostics">Invalid manifests and configuration entries, with file, field and reason.</param>
public sealed record DiscoveryResult(IReadOnlyList<HubServerInfo> Servers, IReadOnlyList<ManifestDiagnostic> Diagnostics);
