using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;

namespace Mmcp.Core.Installation;

/// <summary>What an install did.</summary>
/// <param name="Manifest">The manifest as written, with every path resolved.</param>
/// <param name="ManifestPath">Where it was written.</param>
/// <param name="SourcePath">The manifest file it was installed from.</param>
/// <param name="Replaced">Whether an earlier manifest with the same id was replaced.</param>
/// <param name="Shadowed">Other definitions of the same id that the installed server now takes precedence over (only with <see cref="InstallOptions.Force"/>).</param>
public sealed record InstallResult(ServerManifest Manifest, string ManifestPath, string SourcePath, bool Replaced, IReadOnlyList<ServerProvenance> Shadowed);

/// <summary>What an uninstall did.</summary>
/// <param name="Id">The server id.</param>
/// <param name="RemovedPath">The manifest file that was removed, or <see langword="null"/> when the server was not installed there.</param>
/// <param name="RemovedManifest">The removed manifest when it was readable, or <see langword="null"/>.</param>
/// <param name="StillDefinedBy">Other sources that still define a server with this id (for example a client configuration mmcp does not manage).</param>
public sealed record UninstallResult(string Id, string? RemovedPath, ServerManifest? RemovedManifest, IReadOnlyList<ServerProvenance> StillDefinedBy)
{
    /// <summary>Gets a value indicating whether a manifest was removed.</summary>
    public bool Removed => RemovedPath is not null;
}

/// <summary>An install that was refused: nothing was written. The message says what was wrong and how to fix it.</summary>
public sealed class InstallException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="InstallException"/> class.</summary>
    public InstallException()
        : this("The server could not be installed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InstallException"/> class.</summary>
    /// <param name="message">What was wrong and how to fix it.</param>
    public InstallException(string message)
        : this(message, [])
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InstallException"/> class.</summary>
    /// <param name="message">What was wrong and how to fix it.</param>
    /// <param name="innerException">The cause.</param>
    public InstallException(string message, Exception innerException)
        : base(message, innerException)
    {
        Diagnostics = [];
        Conflicts = [];
    }

    /// <summary>Initializes a new instance of the <see cref="InstallException"/> class.</summary>
    /// <param name="message">What was wrong and how to fix it.</param>
    /// <param name="diagnostics">The manifest problems, when the manifest was invalid.</param>
    /// <param name="conflicts">The other definitions of the id, when the install would shadow them.</param>
    public InstallException(string message, IReadOnlyList<ManifestDiagnostic> diagnostics, IReadOnlyList<ServerProvenance>? conflicts = null)
        : base(message)
    {
        Diagnostics = diagnostics;
        Conflicts = conflicts ?? [];
    }

    /// <summary>Gets the manifest problems, when the manifest was invalid.</summary>
    public IReadOnlyList<ManifestDiagnostic> Diagnostics { get; }

    /// <summary>Gets the other definitions of the id, when the install would shadow them.</summary>
    public IReadOnlyList<ServerProvenance> Conflicts { get; }
}
