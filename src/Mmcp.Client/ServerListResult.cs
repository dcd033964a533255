namespace Mmcp.Client;

/// <summary>How listing went for one server.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Source">Where its items came from.</param>
/// <param name="Failure">Why the live answer is missing, or <see langword="null"/> (a server still starting has no failure).</param>
public sealed record ServerListResult(string ServerId, ListSource Source, ServerFailure? Failure);
