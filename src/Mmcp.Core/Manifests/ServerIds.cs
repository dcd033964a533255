using System.Text;
using System.Text.RegularExpressions;

namespace Mmcp.Core.Manifests;

/// <summary>Rules for server ids.</summary>
/// <remarks>
/// Manifest ids are reverse-DNS (<c>io.mmcp.examples.files</c>): lower-case segments of letters, digits, <c>-</c> and
/// <c>_</c>, separated by dots, at least two segments. Servers imported from other tools' configuration files keep
/// their configuration key, normalised to the same alphabet, so they may have a single segment. No id contains
/// <c>__</c>, which separates the server from the tool in aggregated tool names.
/// </remarks>
public static partial class ServerIds
{
    /// <summary>The longest id accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>Returns whether <paramref name="id"/> is a valid manifest id (reverse-DNS).</summary>
    /// <param name="id">The id to check.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidManifestId(string? id) =>
        id is { Length: > 0 and <= MaxLength } && !id.Contains("__", StringComparison.Ordinal) && ManifestIdRegex().IsMatch(id);

    /// <summary>Returns whether <paramref name="id"/> is a valid server id of any source (manifest or imported).</summary>
    /// <param name="id">The id to check.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidServerId(string? id) =>
        id is { Length: > 0 and <= MaxLength } && !id.Contains("__", StringComparison.Ordinal) && ServerIdRegex().IsMatch(id);

    /// <summary>Explains what is wrong with a manifest id, or returns <see langword="null"/> when it is valid.</summary>
    /// <param name="id">The id to check.</param>
    /// <returns>A message that says how to fix the id, or <see langword="null"/>.</returns>
    public static string? ExplainManifestId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (IsValidManifestId(id))
        {
            return null;
        }

        if (id.Length == 0)
        {
            return "must not be empty; use a reverse-DNS id such as 'com.example.myapp'";
        }

        if (id.Length > MaxLength)
        {
            return $"is {id.Length} characters long; the limit is {MaxLength}";
        }

        if (id.Contains("__", StringComparison.Ordinal))
        {
            return $"'{id}' contains '__', which is reserved to separate server and tool in aggregated tool names";
        }

        if (!id.Contains('.', StringComparison.Ordinal))
        {
            return $"'{id}' is not reverse-DNS; use at least two dot-separated segments such as '{SuggestManifestId(id)}'";
        }

        return $"'{id}' is not a valid reverse-DNS id: use lower-case letters, digits, '-' and '_' in dot-separated segments that start and end with a letter or digit, such as '{SuggestManifestId(id)}'";
    }

    /// <summary>A valid manifest id close to <paramref name="id"/>, for messages: each segment lower-cased, other characters as <c>-</c>, and <c>com.example.</c> in front of a single segment.</summary>
    /// <remarks>The generator's analyzer (Mmcp.Server.Generators' NamePolicies) suggests the same id.</remarks>
    private static string SuggestManifestId(string id)
    {
        var segments = new List<string>();
        foreach (var part in id.Split('.'))
        {
            var sb = new StringBuilder(part.Length);
            foreach (var ch in part)
            {
                var c = char.ToLowerInvariant(ch);
                var mapped = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? c : '-';
                if (mapped is '-' or '_' && sb.Length > 0 && sb[^1] is '-' or '_')
                {
                    continue;
                }

                sb.Append(mapped);
            }

            var segment = sb.ToString().Trim('-', '_');
            if (segment.Length > 0)
            {
                segments.Add(segment);
            }
        }

        if (segments.Count == 1)
        {
            segments.InsertRange(0, ["com", "example"]);
        }

        var suggestion = string.Join('.', segments);
        return IsValidManifestId(suggestion) ? suggestion : "com.example.myapp";
    }

    /// <summary>Turns a configuration key from another tool (for example Claude Desktop's <c>"My Files"</c>) into a server id (<c>my-files</c>).</summary>
    /// <param name="key">The configuration key.</param>
    /// <returns>A valid server id.</returns>
    public static string FromConfigKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var sb = new StringBuilder(Math.Min(key.Length, MaxLength));
        foreach (var ch in key.Trim())
        {
            var c = char.ToLowerInvariant(ch);
            var mapped = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-' ? c : c == '_' ? '_' : '-';
            if (mapped == '_' && sb.Length > 0 && sb[^1] == '_')
            {
                continue; // never produce "__"
            }

            if (mapped is '-' or '.' && sb.Length > 0 && sb[^1] == mapped)
            {
                continue;
            }

            sb.Append(mapped);
            if (sb.Length == MaxLength)
            {
                break;
            }
        }

        var id = sb.ToString().Trim('-', '.', '_');
        return id.Length == 0 ? "server" : id;
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)+$", RegexOptions.CultureInvariant)]
    private static partial Regex ManifestIdRegex();

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex ServerIdRegex();
}
