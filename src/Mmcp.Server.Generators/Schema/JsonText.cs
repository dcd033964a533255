using System;
using System.Globalization;
using System.Text;

namespace Mmcp.Server.Generators.Schema;

/// <summary>Writes compact JSON text (the generator cannot use System.Text.Json inside the compiler).</summary>
internal sealed class JsonText
{
    private readonly StringBuilder _sb = new();
    private bool _needsComma;

    public JsonText StartObject()
    {
        Comma();
        _sb.Append('{');
        _needsComma = false;
        return this;
    }

    public JsonText EndObject()
    {
        _sb.Append('}');
        _needsComma = true;
        return this;
    }

    public JsonText StartArray()
    {
        Comma();
        _sb.Append('[');
        _needsComma = false;
        return this;
    }

    public JsonText EndArray()
    {
        _sb.Append(']');
        _needsComma = true;
        return this;
    }

    public JsonText Name(string name)
    {
        Comma();
        _sb.Append(Quote(name)).Append(':');
        _needsComma = false;
        return this;
    }

    public JsonText String(string value)
    {
        Comma();
        _sb.Append(Quote(value));
        _needsComma = true;
        return this;
    }

    public JsonText Bool(bool value) => Raw(value ? "true" : "false");

    public JsonText Number(long value) => Raw(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes pre-formatted JSON (a nested schema, a literal).</summary>
    public JsonText Raw(string json)
    {
        Comma();
        _sb.Append(json);
        _needsComma = true;
        return this;
    }

    public JsonText Property(string name, string? value) => value is null ? this : Name(name).String(value);

    public override string ToString() => _sb.ToString();

    /// <summary>Quotes a string as JSON, escaping what RFC 8259 requires plus characters that are unsafe in HTML and source code.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c is '\u2028' or '\u2029')
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>Formats a constant as a JSON literal, or returns <see langword="null"/> when it has no JSON form.</summary>
    public static string? Literal(object? value) => value switch
    {
        null => "null",
        string s => Quote(s),
        char c => Quote(c.ToString()),
        bool b => b ? "true" : "false",
        float f => float.IsNaN(f) || float.IsInfinity(f) ? null : f.ToString("R", CultureInfo.InvariantCulture),
        double d => double.IsNaN(d) || double.IsInfinity(d) ? null : d.ToString("R", CultureInfo.InvariantCulture),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        _ => null,
    };

    private void Comma()
    {
        if (_needsComma)
        {
            _sb.Append(',');
        }
    }
}

/// <summary>Helpers shared by the emitters.</summary>
internal static class Literals
{
    /// <summary>Formats a constant as C# source, typed as <paramref name="typeName"/> where a suffix or cast is needed.</summary>
    public static string Code(object? value, string typeName, bool isValueType)
    {
        switch (value)
        {
            case null:
                return isValueType ? "default" : "null";
            case string s:
                return Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(s, quote: true);
            case char c:
                return Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(c, quote: true);
            case bool b:
                return b ? "true" : "false";
            case float f:
                return float.IsNaN(f) ? "float.NaN" : float.IsPositiveInfinity(f) ? "float.PositiveInfinity" : float.IsNegativeInfinity(f) ? "float.NegativeInfinity" : f.ToString("R", CultureInfo.InvariantCulture) + "F";
            case double d:
                return double.IsNaN(d) ? "double.NaN" : double.IsPositiveInfinity(d) ? "double.PositiveInfinity" : double.IsNegativeInfinity(d) ? "double.NegativeInfinity" : d.ToString("R", CultureInfo.InvariantCulture) + "D";
            case decimal m:
                return m.ToString(CultureInfo.InvariantCulture) + "M";
            case long l:
                return l.ToString(CultureInfo.InvariantCulture) + "L";
            case ulong ul:
                return ul.ToString(CultureInfo.InvariantCulture) + "UL";
            case uint ui:
                return ui.ToString(CultureInfo.InvariantCulture) + "U";
            case int i:
                return i.ToString(CultureInfo.InvariantCulture);
            case IFormattable n:
                return "((" + typeName + ")(" + n.ToString(null, CultureInfo.InvariantCulture) + "))";
            default:
                throw new ArgumentException("Unsupported constant " + value.GetType());
        }
    }
}
