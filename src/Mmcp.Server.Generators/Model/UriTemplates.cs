using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;

namespace Mmcp.Server.Generators.Model;

/// <summary>
/// Turns an RFC 6570 URI template into the regular expression that matches URIs it can produce, at compile time, with
/// the same rules as the MCP SDK's reflection-based resources (so generated and reflected servers match the same URIs).
/// </summary>
internal static class UriTemplates
{
    private static readonly Regex Expression = new(@"\{(?<op>[+#./;?&]?)(?<vars>[^{}]*)\}", RegexOptions.CultureInvariant);
    private static readonly Regex VariableName = new(@"^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*$", RegexOptions.CultureInvariant);
    private static readonly Regex Modifier = new(@"^(?<name>[^:*]+)(?::[1-9][0-9]{0,3})?\*?$", RegexOptions.CultureInvariant);

    /// <summary>Parses <paramref name="template"/>; returns the regex pattern, or explains (as the end of a sentence) what is wrong.</summary>
    public static string? TryCreatePattern(string template, List<string> variables, out string? error)
    {
        error = null;
        if (template.Length == 0)
        {
            error = "is empty";
            return null;
        }

        var open = 0;
        foreach (var c in template)
        {
            if (c == '{')
            {
                open++;
            }
            else if (c == '}')
            {
                open--;
            }

            if (open is < 0 or > 1)
            {
                error = "has unbalanced braces";
                return null;
            }
        }

        if (open != 0)
        {
            error = "has an unclosed '{'";
            return null;
        }

        var pattern = new StringBuilder("^");
        var last = 0;
        for (var m = Expression.Match(template); m.Success; m = m.NextMatch())
        {
            pattern.Append(Regex.Escape(template.Substring(last, m.Index - last)));
            last = m.Index + m.Length;

            var names = new List<string>();
            foreach (var raw in m.Groups["vars"].Value.Split(','))
            {
                var modifier = Modifier.Match(raw.Trim());
                if (!modifier.Success || !VariableName.IsMatch(modifier.Groups["name"].Value))
                {
                    error = $"has an invalid variable '{raw}' (use letters, digits and '_', as in {{name}})";
                    return null;
                }

                var name = modifier.Groups["name"].Value;
                if (variables.Contains(name))
                {
                    error = $"uses the variable '{name}' twice";
                    return null;
                }

                variables.Add(name);
                names.Add(name);
            }

            switch (m.Groups["op"].Value)
            {
                case "+": AppendExpression(pattern, names, null, "[^?&#]*"); break;
                case "#": AppendExpression(pattern, names, '#', ".*"); break;
                case ".": AppendExpression(pattern, names, '.', "[^/?#]*"); break;
                case "/": AppendExpression(pattern, names, '/', "[^/?#]*"); break;
                case "?": AppendQuery(pattern, names, '?'); break;
                case "&": AppendQuery(pattern, names, '&'); break;
                case ";": AppendPathParameters(pattern, names); break;
                default: AppendExpression(pattern, names, null, "[^/?&#]*"); break;
            }
        }

        pattern.Append(Regex.Escape(template.Substring(last))).Append('$');
        return pattern.ToString();
    }

    private static void AppendExpression(StringBuilder pattern, List<string> names, char? prefix, string valueChars)
    {
        if (prefix is { } p)
        {
            pattern.Append('\\').Append(p).Append('?');
        }

        var separator = prefix == '.' ? "\\." : ",";
        for (var i = 0; i < names.Count; i++)
        {
            if (i > 0)
            {
                pattern.Append(separator).Append('?');
            }

            pattern.Append("(?<").Append(GroupName(names[i])).Append('>').Append(valueChars).Append(')');
        }
    }

    private static void AppendQuery(StringBuilder pattern, List<string> names, char prefix)
    {
        pattern.Append("(?:\\").Append(prefix);
        for (var i = 0; i < names.Count; i++)
        {
            if (i > 0)
            {
                pattern.Append("\\&?");
            }

            pattern.Append("(?:").Append(Regex.Escape(names[i])).Append("=(?<").Append(GroupName(names[i])).Append(">[^/?&]*))?");
        }

        pattern.Append(")?");
    }

    private static void AppendPathParameters(StringBuilder pattern, List<string> names)
    {
        foreach (var name in names)
        {
            pattern.Append("(?:;").Append(Regex.Escape(name)).Append("(?:=(?<").Append(GroupName(name)).Append(">[^;/?&#]*))?)?");
        }
    }

    /// <summary>Regex group names cannot contain '.' or '%': map them to '_'.</summary>
    public static string GroupName(string variable)
    {
        var sb = new StringBuilder(variable.Length);
        foreach (var c in variable)
        {
            sb.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return sb.ToString();
    }
}
