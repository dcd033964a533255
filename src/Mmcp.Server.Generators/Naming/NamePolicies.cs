using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Mmcp.Server.Generators.Naming;

/// <summary>
/// Naming rules evaluated at compile time. Each mirrors a runtime rule exactly (the tests check them against the
/// runtime implementations): System.Text.Json's camelCase and snake_case policies, the MCP SDK's derived tool names,
/// Mmcp.Core's server ids and aggregated tool names.
/// </summary>
internal static class NamePolicies
{
    public const int MaxAggregatedNameLength = 64;
    private const string Separator = "__";
    private const int HashLength = 6;

    private static readonly Regex ManifestIdRegex = new("^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)+$", RegexOptions.CultureInvariant);
    private static readonly Regex ToolNameRegex = new("^[A-Za-z0-9_.-]{1,128}$", RegexOptions.CultureInvariant);
    private static readonly Regex NonAsciiLetterOrDigit = new("[^0-9A-Za-z]+", RegexOptions.CultureInvariant);

    /// <summary>The JSON name of a property: System.Text.Json's <c>JsonNamingPolicy.CamelCase</c>.</summary>
    public static string CamelCase(string name)
    {
        if (string.IsNullOrEmpty(name) || !char.IsUpper(name[0]))
        {
            return name;
        }

        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (i == 1 && !char.IsUpper(chars[i]))
            {
                break;
            }

            var hasNext = i + 1 < chars.Length;
            if (i > 0 && hasNext && !char.IsUpper(chars[i + 1]))
            {
                if (chars[i + 1] == ' ')
                {
                    chars[i] = char.ToLowerInvariant(chars[i]);
                }

                break;
            }

            chars[i] = char.ToLowerInvariant(chars[i]);
        }

        return new string(chars);
    }

    /// <summary>System.Text.Json's <c>JsonNamingPolicy.SnakeCaseLower</c>.</summary>
    public static string SnakeCaseLower(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        var state = 0; // 0 not started, 1 upper, 2 lower or digit, 3 space
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            switch (CharUnicodeInfo.GetUnicodeCategory(c))
            {
                case UnicodeCategory.UppercaseLetter:
                    switch (state)
                    {
                        case 2:
                        case 3:
                            sb.Append('_');
                            break;
                        case 1:
                            if (i + 1 < name.Length && char.IsLower(name[i + 1]))
                            {
                                sb.Append('_');
                            }

                            break;
                    }

                    sb.Append(char.ToLowerInvariant(c));
                    state = 1;
                    break;

                case UnicodeCategory.LowercaseLetter:
                case UnicodeCategory.DecimalDigitNumber:
                    if (state == 3)
                    {
                        sb.Append('_');
                    }

                    sb.Append(c);
                    state = 2;
                    break;

                case UnicodeCategory.SpaceSeparator:
                    if (state != 0)
                    {
                        state = 3;
                    }

                    break;

                default:
                    sb.Append(c);
                    state = 0;
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>The name the MCP SDK derives from a method: "Async" dropped from async methods, non-alphanumerics to '_', snake_case.</summary>
    public static string DerivePrimitiveName(string methodName, bool isAsync)
    {
        var name = methodName;
        const string AsyncSuffix = "Async";
        if (isAsync && name.EndsWith(AsyncSuffix, StringComparison.Ordinal) && name.Length > AsyncSuffix.Length)
        {
            name = name.Substring(0, name.Length - AsyncSuffix.Length);
        }

        name = NonAsciiLetterOrDigit.Replace(name, "_").Trim('_');
        if (name.Length == 0)
        {
            name = methodName;
        }

        return SnakeCaseLower(name);
    }

    /// <summary>Whether a tool name is valid for MCP.</summary>
    public static bool IsValidToolName(string name) => ToolNameRegex.IsMatch(name);

    /// <summary>Explains what is wrong with a tool name, or returns <see langword="null"/>.</summary>
    public static string? ExplainToolName(string name)
    {
        if (IsValidToolName(name))
        {
            return null;
        }

        if (name.Length == 0)
        {
            return "it is empty";
        }

        if (name.Length > 128)
        {
            return $"it is {name.Length} characters long";
        }

        foreach (var c in name)
        {
            if (!(c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.'))
            {
                return $"it contains '{c}'";
            }
        }

        return "it does not match ^[A-Za-z0-9_.-]{1,128}$";
    }

    /// <summary>Explains what is wrong with a manifest server id (Mmcp.Core's ServerIds.ExplainManifestId), or returns <see langword="null"/>.</summary>
    public static string? ExplainServerId(string id)
    {
        if (id.Length is > 0 and <= 128 && id.IndexOf(Separator, StringComparison.Ordinal) < 0 && ManifestIdRegex.IsMatch(id))
        {
            return null;
        }

        if (id.Length == 0)
        {
            return "must not be empty; use a reverse-DNS id such as 'com.example.myapp'";
        }

        if (id.Length > 128)
        {
            return $"is {id.Length} characters long; the limit is 128";
        }

        if (id.IndexOf(Separator, StringComparison.Ordinal) >= 0)
        {
            return $"'{id}' contains '__', which is reserved to separate server and tool in aggregated tool names";
        }

        if (id.IndexOf('.') < 0)
        {
            return $"'{id}' is not reverse-DNS; use at least two dot-separated segments such as '{SuggestServerId(id)}'";
        }

        return $"'{id}' is not a valid reverse-DNS id: use lower-case letters, digits, '-' and '_' in dot-separated segments that start and end with a letter or digit, such as '{SuggestServerId(id)}'";
    }

    /// <summary>A valid server id close to <paramref name="id"/> (Mmcp.Core's ServerIds.SuggestManifestId): each segment lower-cased, other characters as '-', and 'com.example.' in front of a single segment.</summary>
    private static string SuggestServerId(string id)
    {
        var segments = new List<string>();
        foreach (var part in id.Split('.'))
        {
            var sb = new StringBuilder(part.Length);
            foreach (var ch in part)
            {
                var c = char.ToLowerInvariant(ch);
                var mapped = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? c : '-';
                if (mapped is '-' or '_' && sb.Length > 0 && sb[sb.Length - 1] is '-' or '_')
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
            segments.Insert(0, "example");
            segments.Insert(0, "com");
        }

        var suggestion = string.Join(".", segments);
        return suggestion.Length is > 0 and <= 128 && ManifestIdRegex.IsMatch(suggestion) ? suggestion : "com.example.myapp";
    }

    /// <summary>The plain aggregated name <c>&lt;serverPrefix&gt;__&lt;tool&gt;</c> (Mmcp.Core's ToolNameMap), however long.</summary>
    public static string PlainAggregatedName(string serverId, string toolName) => ServerPrefix(serverId) + Separator + Sanitize(toolName);

    /// <summary>The shortened name a hub gives a tool whose plain aggregated name is too long (ToolNameMap's first hashed candidate).</summary>
    public static string HashedAggregatedName(string serverId, string toolName)
    {
        string hash;
        using (var sha = SHA256.Create())
        {
            var digest = sha.ComputeHash(Encoding.UTF8.GetBytes(serverId + "\0" + toolName));
            var hex = new StringBuilder(64);
            foreach (var b in digest)
            {
                hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            }

            hash = hex.ToString().Substring(0, HashLength);
        }

        var prefix = ServerPrefix(serverId);
        var toolPart = Sanitize(toolName);
        var budget = MaxAggregatedNameLength - Separator.Length - 1 - HashLength;
        var prefixLength = Math.Min(prefix.Length, Math.Max(8, budget - toolPart.Length));
        var toolLength = Math.Min(toolPart.Length, budget - prefixLength);
        return prefix.Substring(0, prefixLength) + Separator + toolPart.Substring(0, toolLength) + "_" + hash;
    }

    /// <summary>The longest tool name whose plain aggregated name still fits in 64 characters for this server.</summary>
    public static int MaxToolNameLength(string serverId) => MaxAggregatedNameLength - ServerPrefix(serverId).Length - Separator.Length;

    private static string ServerPrefix(string serverId)
    {
        var prefix = Sanitize(serverId);
        return prefix.Length > 0 && IsAsciiLetter(prefix[0]) ? prefix : "s" + prefix;
    }

    private static string Sanitize(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            sb.Append(IsAllowed(c) ? c : '_');
        }

        while (sb.ToString().IndexOf(Separator, StringComparison.Ordinal) >= 0)
        {
            sb.Replace(Separator, "_");
        }

        return sb.ToString();
    }

    private static bool IsAllowed(char c) => IsAsciiLetter(c) || c is (>= '0' and <= '9') or '_' or '-';

    private static bool IsAsciiLetter(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');
}
