using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace Mmcp.Core.Naming;

/// <summary>A tool of one server, as the server names it.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="ToolName">The tool's own name.</param>
public readonly record struct QualifiedToolName(string ServerId, string ToolName);

/// <summary>
/// Maps the tools of many servers to aggregated names <c>&lt;serverId&gt;__&lt;tool&gt;</c> that every LLM function-calling API
/// accepts: at most 64 characters of <c>[a-zA-Z0-9_-]</c>, starting with a letter.
/// </summary>
/// <remarks>
/// <para>Characters outside the alphabet (the dots of reverse-DNS ids, the dots MCP allows in tool names) become
/// <c>_</c>. Names that would be longer than 64 characters are shortened and given a 6-character hash of the full
/// original, so distinct tools never merge.</para>
/// <para>When two tools map to the same name, the one whose <c>(serverId, tool)</c> sorts first keeps the plain name and
/// the others get a hash suffix. The result depends only on the set of tools, never on discovery order, and the map
/// is reversible.</para>
/// </remarks>
public sealed class ToolNameMap
{
    /// <summary>The longest aggregated name (the OpenAI function-name limit).</summary>
    public const int MaxLength = 64;

    /// <summary>The separator between the server part and the tool part.</summary>
    public const string Separator = "__";

    private const int HashLength = 6;

    private readonly FrozenDictionary<string, QualifiedToolName> _byExposed;
    private readonly FrozenDictionary<QualifiedToolName, string> _byQualified;

    private ToolNameMap(Dictionary<string, QualifiedToolName> byExposed)
    {
        _byExposed = byExposed.ToFrozenDictionary(StringComparer.Ordinal);
        _byQualified = byExposed.ToFrozenDictionary(p => p.Value, p => p.Key);
    }

    /// <summary>Gets an empty map.</summary>
    public static ToolNameMap Empty { get; } = new([]);

    /// <summary>Gets the number of tools in the map.</summary>
    public int Count => _byExposed.Count;

    /// <summary>Builds the map for a set of tools. Duplicate entries are ignored.</summary>
    /// <param name="tools">The tools of every server.</param>
    /// <returns>The map.</returns>
    public static ToolNameMap Create(IEnumerable<QualifiedToolName> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var distinct = tools.Distinct().OrderBy(t => t.ServerId, StringComparer.Ordinal).ThenBy(t => t.ToolName, StringComparer.Ordinal).ToList();
        var result = new Dictionary<string, QualifiedToolName>(StringComparer.Ordinal);

        // First pass: plain names, first in sort order wins; second pass: hashed names for the rest.
        var deferred = new List<QualifiedToolName>();
        foreach (var tool in distinct)
        {
            var plain = PlainName(tool);
            if (plain is not null && result.TryAdd(plain, tool))
            {
                continue;
            }

            deferred.Add(tool);
        }

        foreach (var tool in deferred)
        {
            var name = HashedName(tool, salt: 0);
            for (var salt = 1; !result.TryAdd(name, tool); salt++)
            {
                name = HashedName(tool, salt); // a 24-bit hash collision: vanishingly rare, still handled
            }
        }

        return new ToolNameMap(result);
    }

    /// <summary>Returns the aggregated name of a tool.</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="toolName">The tool's own name.</param>
    /// <returns>The aggregated name, or <see langword="null"/> when the tool is not in the map.</returns>
    public string? GetExposedName(string serverId, string toolName) =>
        _byQualified.TryGetValue(new QualifiedToolName(serverId, toolName), out var name) ? name : null;

    /// <summary>Resolves an aggregated name back to its server and tool.</summary>
    /// <param name="exposedName">The aggregated name.</param>
    /// <param name="tool">The server and tool, when found.</param>
    /// <returns><see langword="true"/> when the name is in the map.</returns>
    public bool TryResolve(string exposedName, out QualifiedToolName tool) => _byExposed.TryGetValue(exposedName, out tool);

    /// <summary>Gets every aggregated name with its server and tool, in ordinal order of the aggregated name.</summary>
    public IEnumerable<KeyValuePair<string, QualifiedToolName>> Entries => _byExposed.OrderBy(p => p.Key, StringComparer.Ordinal);

    /// <summary>Returns whether <paramref name="name"/> is acceptable to LLM function-calling APIs.</summary>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when it has 1–64 characters of <c>[a-zA-Z0-9_-]</c>.</returns>
    public static bool IsValidFunctionName(string? name)
    {
        if (name is not { Length: > 0 and <= MaxLength })
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!IsAllowed(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The server part of aggregated names: the id with every character outside <c>[a-zA-Z0-9_-]</c> replaced by <c>_</c>.</summary>
    /// <param name="serverId">The server id.</param>
    /// <returns>The prefix, without the separator.</returns>
    public static string ServerPrefix(string serverId)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        var prefix = Sanitize(serverId);
        return prefix.Length > 0 && char.IsAsciiLetter(prefix[0]) ? prefix : "s" + prefix;
    }

    private static string? PlainName(QualifiedToolName tool)
    {
        var name = ServerPrefix(tool.ServerId) + Separator + Sanitize(tool.ToolName);
        return name.Length <= MaxLength ? name : null;
    }

    private static string HashedName(QualifiedToolName tool, int salt)
    {
        var hash = Hash(tool, salt);
        var prefix = ServerPrefix(tool.ServerId);
        var toolPart = Sanitize(tool.ToolName);

        // Budget: prefix + "__" + tool + "_" + hash ≤ 64. Keep the tool part readable; shorten the server part first
        // (to at least 8 characters), then the tool part.
        var budget = MaxLength - Separator.Length - 1 - HashLength;
        var prefixLength = Math.Min(prefix.Length, Math.Max(8, budget - toolPart.Length));
        var toolLength = Math.Min(toolPart.Length, budget - prefixLength);
        return $"{prefix[..prefixLength]}{Separator}{toolPart[..toolLength]}_{hash}";
    }

    private static string Hash(QualifiedToolName tool, int salt)
    {
        var input = Encoding.UTF8.GetBytes(salt == 0 ? $"{tool.ServerId}\0{tool.ToolName}" : $"{tool.ServerId}\0{tool.ToolName}\0{salt}");
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(input, digest);
        return Convert.ToHexStringLower(digest)[..HashLength];
    }

    private static string Sanitize(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            sb.Append(IsAllowed(c) ? c : '_');
        }

        // "__" inside a part would blur the separator for human readers; the map stays exact either way.
        while (sb.ToString().Contains(Separator, StringComparison.Ordinal))
        {
            sb.Replace(Separator, "_");
        }

        return sb.ToString();
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';
}
