namespace Mmcp.Core.Manifests;

/// <summary>How serious a <see cref="ManifestDiagnostic"/> is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The manifest is still usable (for example an unknown field, kept for forward compatibility).</summary>
    Warning,

    /// <summary>The manifest cannot be used.</summary>
    Error,
}

/// <summary>One problem found in a manifest or configuration file: which file, which field, and why.</summary>
/// <param name="File">The file path, or a description of the source when it is not a file.</param>
/// <param name="Field">The JSON path of the field (for example <c>transport.path</c> or <c>capabilities.tools[2].name</c>); empty for the whole document.</param>
/// <param name="Message">What is wrong and how to fix it.</param>
/// <param name="Severity">Whether the manifest is still usable.</param>
/// <param name="Line">The 1-based line number when known.</param>
public sealed record ManifestDiagnostic(string File, string Field, string Message, DiagnosticSeverity Severity = DiagnosticSeverity.Error, long? Line = null)
{
    /// <inheritdoc/>
    public override string ToString()
    {
        var location = Line is { } line ? $"{File}:{line}" : File;
        var field = Field.Length == 0 ? string.Empty : $" {Field}:";
        var level = Severity == DiagnosticSeverity.Error ? "error" : "warning";
        return $"{location}: {level}:{field} {Message}";
    }
}
