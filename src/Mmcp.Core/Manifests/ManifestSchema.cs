namespace Mmcp.Core.Manifests;

/// <summary>The JSON Schema of the manifest format, shipped inside this assembly (also <c>schemas/mmcp-manifest.v1.schema.json</c>).</summary>
public static class ManifestSchema
{
    /// <summary>Returns the JSON Schema text of manifest version 1.</summary>
    /// <returns>The schema as JSON.</returns>
    public static string GetJson()
    {
        using var stream = typeof(ManifestSchema).Assembly.GetManifestResourceStream("mmcp-manifest.v1.schema.json")
            ?? throw new InvalidOperationException("The manifest schema resource is missing from Mmcp.Core.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
