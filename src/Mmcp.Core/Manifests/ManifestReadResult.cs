namespace Mmcp.Core.Manifests;

/// <summary>The outcome of reading one manifest: the manifest when it is usable, and every problem found.</summary>
public sealed class ManifestReadResult
{
    internal ManifestReadResult(ServerManifest? manifest, IReadOnlyList<ManifestDiagnostic> diagnostics)
    {
        Manifest = manifest;
        Diagnostics = diagnostics;
    }

    /// <summary>Gets the manifest, or <see langword="null"/> when it has errors.</summary>
    public ServerManifest? Manifest { get; }

    /// <summary>Gets the errors and warnings, in document order.</summary>
    public IReadOnlyList<ManifestDiagnostic> Diagnostics { get; }

    /// <summary>Gets a value indicating whether the manifest is usable (it has no errors; it may have warnings).</summary>
    public bool IsValid => Manifest is not null;
}
