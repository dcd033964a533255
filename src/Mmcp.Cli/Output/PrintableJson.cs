using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mmcp.Cli.Output;

/// <summary>
/// How the CLI writes JSON for standard output: indented, and escaped only where JSON requires it (quotes, apostrophes
/// and non-ASCII text as typed, not <c>\u0027</c> or <c>\u00E9</c>). The output goes to programs and to people reading
/// a terminal, never into HTML.
/// </summary>
internal static class PrintableJson
{
    public static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The element as indented JSON text.</summary>
    public static string Text(JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The node as indented JSON text.</summary>
    public static string Text(JsonNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            node.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
