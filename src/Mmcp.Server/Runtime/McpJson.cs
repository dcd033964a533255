using System.ComponentModel;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;

namespace Mmcp.Server.Runtime;

/// <summary>
/// Reads tool arguments and writes tool results for generated code, without reflection. Readers follow the MCP SDK's
/// JSON settings (numbers may arrive as strings, enum names are case-insensitive) but are strict about types and nulls,
/// and every error names the argument path.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class McpJson
{
    /// <summary>The deepest result nesting written (as System.Text.Json's default).</summary>
    public const int MaxDepth = 64;

    /// <summary>Whether a JSON value is null or absent.</summary>
    /// <param name="element">The value.</param>
    /// <returns><see langword="true"/> for null or undefined.</returns>
    public static bool IsNull(JsonElement element) => element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    /// <summary>The path of an array item.</summary>
    /// <param name="path">The array's path.</param>
    /// <param name="index">The index.</param>
    /// <returns><c>path[index]</c>.</returns>
    public static string Index(string path, int index) => string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]");

    /// <summary>The path of an object property.</summary>
    /// <param name="path">The object's path.</param>
    /// <param name="name">The property.</param>
    /// <returns><c>path.name</c>.</returns>
    public static string Property(string path, string name) => path + "." + name;

    /// <summary>A required argument or property is absent.</summary>
    /// <param name="path">Its path.</param>
    /// <returns>The error.</returns>
    public static ArgumentBindingException Missing(string path) => new(path, "is required but was not given");

    /// <summary>A null where a value is required.</summary>
    /// <param name="path">Its path.</param>
    /// <returns>The error.</returns>
    public static ArgumentBindingException NullValue(string path) => new(path, "must not be null");

    /// <summary>A value that names no enum member.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <param name="names">The accepted names.</param>
    /// <returns>The error.</returns>
    public static ArgumentBindingException InvalidEnum(JsonElement element, string path, string names) => new(path, $"must be one of {names}, not {Describe(element)}");

    /// <summary>A value of a <see cref="FlagsAttribute"/> enum that is not a combination of its members.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <param name="names">The accepted names.</param>
    /// <returns>The error.</returns>
    public static ArgumentBindingException InvalidFlags(JsonElement element, string path, string names) => new(path, $"must be one or more of {names} separated by commas, not {Describe(element)}");

    /// <summary>Throws unless the value is an object.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    public static void ExpectObject(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Wrong(element, path, "an object");
        }
    }

    /// <summary>Throws unless the value is an array.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    public static void ExpectArray(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw Wrong(element, path, "an array");
        }
    }

    /// <summary>Reads a string.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The string.</returns>
    public static string ReadString(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw Wrong(element, path, "a string");

    /// <summary>Reads a boolean (<c>true</c>/<c>false</c>, or the strings "true"/"false").</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The boolean.</returns>
    public static bool ReadBoolean(JsonElement element, string path) => element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String when bool.TryParse(element.GetString(), out var value) => value,
        _ => throw Wrong(element, path, "true or false"),
    };

    /// <summary>Reads a one-character string.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The character.</returns>
    public static char ReadChar(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && element.GetString() is { Length: 1 } s ? s[0] : throw Wrong(element, path, "a string of one character");

    /// <summary>Reads a byte.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static byte ReadByte(JsonElement element, string path) => ReadInteger<byte>(element, path);

    /// <summary>Reads a signed byte.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static sbyte ReadSByte(JsonElement element, string path) => ReadInteger<sbyte>(element, path);

    /// <summary>Reads a 16-bit integer.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static short ReadInt16(JsonElement element, string path) => ReadInteger<short>(element, path);

    /// <summary>Reads an unsigned 16-bit integer.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static ushort ReadUInt16(JsonElement element, string path) => ReadInteger<ushort>(element, path);

    /// <summary>Reads a 32-bit integer.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static int ReadInt32(JsonElement element, string path) => ReadInteger<int>(element, path);

    /// <summary>Reads an unsigned 32-bit integer.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static uint ReadUInt32(JsonElement element, string path) => ReadInteger<uint>(element, path);

    /// <summary>Reads a 64-bit integer.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static long ReadInt64(JsonElement element, string path) => ReadInteger<long>(element, path);

    /// <summary>Reads an unsigned 64-bit integer.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static ulong ReadUInt64(JsonElement element, string path) => ReadInteger<ulong>(element, path);

    /// <summary>Reads a single-precision number.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static float ReadSingle(JsonElement element, string path) => ReadReal<float>(element, path);

    /// <summary>Reads a double-precision number.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static double ReadDouble(JsonElement element, string path) => ReadReal<double>(element, path);

    /// <summary>Reads a decimal number.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The number.</returns>
    public static decimal ReadDecimal(JsonElement element, string path) => ReadReal<decimal>(element, path);

    /// <summary>Reads a GUID string.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The GUID.</returns>
    public static Guid ReadGuid(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && Guid.TryParse(element.GetString(), out var value) ? value : throw Wrong(element, path, "a GUID string such as \"3f2504e0-4f89-11d3-9a0c-0305e82c3301\"");

    /// <summary>Reads an ISO 8601 date and time.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The date and time.</returns>
    public static DateTime ReadDateTime(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && element.TryGetDateTime(out var value) ? value : throw Wrong(element, path, "an ISO 8601 date and time such as \"2025-01-31T12:00:00Z\"");

    /// <summary>Reads an ISO 8601 date and time with offset.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The date and time.</returns>
    public static DateTimeOffset ReadDateTimeOffset(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && element.TryGetDateTimeOffset(out var value) ? value : throw Wrong(element, path, "an ISO 8601 date and time such as \"2025-01-31T12:00:00+01:00\"");

    /// <summary>Reads a time span ("[-][d.]hh:mm:ss[.fffffff]").</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The time span.</returns>
    public static TimeSpan ReadTimeSpan(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && TimeSpan.TryParseExact(element.GetString(), "c", CultureInfo.InvariantCulture, out var value) ? value : throw Wrong(element, path, "a time span such as \"01:30:00\" or \"2.00:00:00\"");

    /// <summary>Reads a date ("yyyy-MM-dd").</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The date.</returns>
    public static DateOnly ReadDateOnly(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(element.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var value) ? value : throw Wrong(element, path, "a date such as \"2025-01-31\"");

    /// <summary>Reads a time of day.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The time.</returns>
    public static TimeOnly ReadTimeOnly(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && TimeOnly.TryParse(element.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var value) ? value : throw Wrong(element, path, "a time such as \"13:45:00\"");

    /// <summary>Reads a URI.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The URI.</returns>
    public static Uri ReadUri(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && Uri.TryCreate(element.GetString(), UriKind.RelativeOrAbsolute, out var value) ? value : throw Wrong(element, path, "a URI");

    /// <summary>Reads base64-encoded bytes.</summary>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The bytes.</returns>
    public static byte[] ReadBytes(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.String && element.TryGetBytesFromBase64(out var value) ? value : throw Wrong(element, path, "a base64 string");

    /// <summary>Keeps any JSON value as a <see cref="JsonElement"/> that outlives the request.</summary>
    /// <param name="element">The value.</param>
    /// <returns>A copy.</returns>
    public static JsonElement ReadElement(JsonElement element) => element.Clone();

    /// <summary>Reads any JSON value as a boxed <see cref="JsonElement"/>, or <see langword="null"/>.</summary>
    /// <param name="element">The value.</param>
    /// <returns>The value.</returns>
    public static object? ReadAny(JsonElement element) => IsNull(element) ? null : element.Clone();

    /// <summary>Reads a JSON value as a <see cref="JsonNode"/> of the expected kind.</summary>
    /// <typeparam name="TNode">The node type (<see cref="JsonNode"/>, <see cref="JsonObject"/>, <see cref="JsonArray"/>, <see cref="JsonValue"/>).</typeparam>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The node.</returns>
    public static TNode ReadNode<TNode>(JsonElement element, string path)
        where TNode : JsonNode
    {
        var node = element.ValueKind switch
        {
            JsonValueKind.Object => JsonObject.Create(element.Clone()),
            JsonValueKind.Array => JsonArray.Create(element.Clone()),
            _ => (JsonNode?)JsonValue.Create(element.Clone()),
        };
        return node as TNode ?? throw Wrong(element, path, typeof(TNode) == typeof(JsonObject) ? "an object" : typeof(TNode) == typeof(JsonArray) ? "an array" : "a JSON value");
    }

    /// <summary>Reads an MCP protocol or Microsoft.Extensions.AI type with the SDK's source-generated JSON contracts.</summary>
    /// <typeparam name="T">The type.</typeparam>
    /// <param name="element">The value.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The value.</returns>
    public static T ReadSdk<T>(JsonElement element, string path)
    {
        try
        {
            return JsonSerializer.Deserialize(element, (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T))) ?? throw NullValue(path);
        }
        catch (JsonException ex)
        {
            throw new ArgumentBindingException(path, "is not a valid " + typeof(T).Name + ": " + ex.Message);
        }
    }

    /// <summary>Turns a value matched in a resource URI into a JSON string for the readers (percent-decoded).</summary>
    /// <param name="value">The matched text.</param>
    /// <returns>A JSON string element.</returns>
    public static JsonElement FromUriComponent(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var document = JsonDocument.Parse("\"" + JsonEncodedText.Encode(Uri.UnescapeDataString(value)).ToString() + "\"");
        return document.RootElement.Clone();
    }

    /// <summary>Throws when a result nests deeper than <see cref="MaxDepth"/> (usually a cycle in the object graph).</summary>
    /// <param name="depth">The current depth.</param>
    public static void CheckDepth(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidOperationException($"The result nests deeper than {MaxDepth} levels; it probably contains a reference cycle.");
        }
    }

    /// <summary>Writes a character as a one-character string.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteChar(Utf8JsonWriter writer, char value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<char> one = [value];
        writer.WriteStringValue(one);
    }

    /// <summary>Writes a number; NaN and infinities, which JSON cannot carry, are written as strings.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteSingle(Utf8JsonWriter writer, float value) => WriteDouble(writer, value);

    /// <summary>Writes a number; NaN and infinities, which JSON cannot carry, are written as strings.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Writes a time span in the constant ("c") format.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteTimeSpan(Utf8JsonWriter writer, TimeSpan value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString("c", CultureInfo.InvariantCulture));
    }

    /// <summary>Writes a date as "yyyy-MM-dd".</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteDateOnly(Utf8JsonWriter writer, DateOnly value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    /// <summary>Writes a time of day as "HH:mm:ss[.fffffff]".</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteTimeOnly(Utf8JsonWriter writer, TimeOnly value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
    }

    /// <summary>Writes a URI as given.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteUri(Utf8JsonWriter writer, Uri value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(value.OriginalString);
    }

    /// <summary>Writes an MCP protocol or Microsoft.Extensions.AI value with the SDK's source-generated JSON contracts.</summary>
    /// <typeparam name="T">The type.</typeparam>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    public static void WriteSdk<T>(Utf8JsonWriter writer, T value) =>
        JsonSerializer.Serialize(writer, value, (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T)));

    /// <summary>Writes a value of a type known only at run time (results typed as <see cref="object"/>).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="NotSupportedException">The run-time type has no JSON contract (use a concrete result type so the generator can write it).</exception>
    public static void WriteAny(Utf8JsonWriter writer, object? value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case int i: writer.WriteNumberValue(i); break;
            case long l: writer.WriteNumberValue(l); break;
            case double d: WriteDouble(writer, d); break;
            case decimal m: writer.WriteNumberValue(m); break;
            case JsonElement e: e.WriteTo(writer); break;
            case JsonNode n: n.WriteTo(writer); break;
            default:
                JsonSerializer.Serialize(writer, value, McpJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType()));
                break;
        }
    }

    /// <summary>The text of a number, or of a string that may hold one (the SDK's JSON settings read numbers from strings).</summary>
    private static string? NumberText(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.String => element.GetString(),
        _ => null,
    };

    private static T ReadInteger<T>(JsonElement element, string path)
        where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        var text = NumberText(element);
        if (text is not null && T.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        return text is not null && decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? throw new ArgumentBindingException(path, number == decimal.Truncate(number)
                ? $"must be an integer from {T.MinValue} to {T.MaxValue}, not {Describe(element)}"
                : $"must be a whole number, not {Describe(element)}")
            : throw Wrong(element, path, "an integer");
    }

    private static T ReadReal<T>(JsonElement element, string path)
        where T : IFloatingPointConstants<T>, INumberBase<T>
    {
        var text = NumberText(element);
        if (text is not null && T.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value))
        {
            return value;
        }

        throw Wrong(element, path, "a number");
    }

    private static ArgumentBindingException Wrong(JsonElement element, string path, string expected) => new(path, $"must be {expected}, not {Describe(element)}");

    private static string Describe(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var text = element.GetString()!;
                return "the string \"" + (text.Length > 40 ? text[..40] + "…" : text) + "\"";
            case JsonValueKind.Number:
                var raw = element.GetRawText();
                return "the number " + (raw.Length > 40 ? raw[..40] + "…" : raw);
            case JsonValueKind.True:
            case JsonValueKind.False:
                return "a boolean";
            case JsonValueKind.Object:
                return "an object";
            case JsonValueKind.Array:
                return "an array";
            default:
                return "null";
        }
    }
}
