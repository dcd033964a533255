using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Xml;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Mmcp.Server.Generators.Docs;

/// <summary>The descriptions in a member's XML documentation comment, as plain text.</summary>
internal sealed class DocComment
{
    private static readonly DocComment Empty = new(null, null, new Dictionary<string, string>(StringComparer.Ordinal));

    private readonly Dictionary<string, string> _parameters;

    private DocComment(string? summary, string? returns, Dictionary<string, string> parameters)
    {
        Summary = summary;
        Returns = returns;
        _parameters = parameters;
    }

    public string? Summary { get; }

    public string? Returns { get; }

    public string? Parameter(string name) => _parameters.TryGetValue(name, out var text) ? text : null;

    /// <summary>
    /// Reads the comment of <paramref name="symbol"/>. Uses the compiler's parsed documentation when the project
    /// generates it, and otherwise reads the <c>///</c> lines from the declaration, so descriptions never depend on
    /// <c>GenerateDocumentationFile</c>.
    /// </summary>
    public static DocComment For(ISymbol symbol, CancellationToken cancellationToken)
    {
        var xml = symbol.GetDocumentationCommentXml(expandIncludes: false, cancellationToken: cancellationToken);
        if (string.IsNullOrWhiteSpace(xml))
        {
            xml = FromTrivia(symbol, cancellationToken);
        }

        return string.IsNullOrWhiteSpace(xml) ? Empty : Parse(xml!);
    }

    private static string? FromTrivia(ISymbol symbol, CancellationToken cancellationToken)
    {
        foreach (var reference in symbol.DeclaringSyntaxReferences)
        {
            var node = reference.GetSyntax(cancellationToken);
            var lines = new List<string>();
            foreach (var trivia in node.GetLeadingTrivia())
            {
                if (trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia))
                {
                    foreach (var line in trivia.ToFullString().Split('\n'))
                    {
                        var text = line.TrimStart();
                        if (text.StartsWith("///", StringComparison.Ordinal))
                        {
                            lines.Add(text.Substring(3));
                        }
                    }
                }
                else if (trivia.IsKind(SyntaxKind.SingleLineCommentTrivia))
                {
                    var text = trivia.ToString();
                    if (text.StartsWith("///", StringComparison.Ordinal))
                    {
                        lines.Add(text.Substring(3));
                    }
                }
            }

            if (lines.Count > 0)
            {
                return "<member>" + string.Join("\n", lines) + "</member>";
            }
        }

        return null;
    }

    private static DocComment Parse(string xml)
    {
        XElement root;
        try
        {
            root = XElement.Parse(xml, LoadOptions.PreserveWhitespace);
        }
        catch (XmlException)
        {
            return Empty; // malformed comments are the compiler's CS1570 to report
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var param in root.Elements("param"))
        {
            if (param.Attribute("name")?.Value is { Length: > 0 } name && Text(param) is { } text)
            {
                parameters[name] = text;
            }
        }

        return new DocComment(Text(root.Element("summary")), Text(root.Element("returns")), parameters);
    }

    private static string? Text(XElement? element)
    {
        if (element is null)
        {
            return null;
        }

        var sb = new StringBuilder();
        Append(sb, element);
        var lines = sb.ToString().Split('\n').Select(l => CollapseSpaces(l.Trim())).ToList();

        // Keep paragraph breaks (blank lines and <para>) but join wrapped lines.
        var result = new StringBuilder();
        var pendingBreak = false;
        foreach (var line in lines)
        {
            if (line.Length == 0)
            {
                pendingBreak = result.Length > 0;
                continue;
            }

            if (result.Length > 0)
            {
                result.Append(pendingBreak ? "\n" : " ");
            }

            result.Append(line);
            pendingBreak = false;
        }

        return result.Length == 0 ? null : result.ToString();
    }

    private static void Append(StringBuilder sb, XElement element)
    {
        foreach (var node in element.Nodes())
        {
            switch (node)
            {
                case XText text:
                    sb.Append(text.Value.Replace("\r", string.Empty));
                    break;
                case XElement child:
                    switch (child.Name.LocalName)
                    {
                        case "see":
                        case "seealso":
                            if (!child.IsEmpty)
                            {
                                Append(sb, child);
                            }
                            else if (child.Attribute("langword")?.Value is { } word)
                            {
                                sb.Append(word);
                            }
                            else if (child.Attribute("cref")?.Value is { } cref)
                            {
                                sb.Append(ShortCref(cref));
                            }
                            else if (child.Attribute("href")?.Value is { } href)
                            {
                                sb.Append(href);
                            }

                            break;
                        case "paramref":
                        case "typeparamref":
                            sb.Append(child.Attribute("name")?.Value);
                            break;
                        case "para":
                        case "br":
                            sb.Append("\n\n");
                            Append(sb, child);
                            sb.Append("\n\n");
                            break;
                        default:
                            Append(sb, child);
                            break;
                    }

                    break;
            }
        }
    }

    private static string ShortCref(string cref)
    {
        var colon = cref.IndexOf(':');
        var name = colon >= 0 ? cref.Substring(colon + 1) : cref;
        var paren = name.IndexOf('(');
        if (paren >= 0)
        {
            name = name.Substring(0, paren);
        }

        var dot = name.LastIndexOf('.');
        return dot >= 0 ? name.Substring(dot + 1) : name;
    }

    private static string CollapseSpaces(string text)
    {
        var sb = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (c is ' ' or '\t')
            {
                space = true;
                continue;
            }

            if (space && sb.Length > 0)
            {
                sb.Append(' ');
            }

            space = false;
            sb.Append(c);
        }

        return sb.ToString();
    }
}
