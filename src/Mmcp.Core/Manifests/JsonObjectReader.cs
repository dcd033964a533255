using System.Text.Json;

namespace Mmcp.Core.Manifests;

/// <summary>
/// Reads fields of a JSON object while collecting diagnostics with JSON paths: duplicate keys and wrong types are
/// errors, unknown keys are warnings. Shared by the manifest reader and the configuration importers.
/// </summary>
internal sealed class JsonObjectReader
{
    private readonly List<ManifestDiagnostic> _diagnostics;
    private readonly string _file;

    public JsonObjectReader(string file, List<ManifestDiagnostic> diagnostics)
    {
        _file = file;
        _diagnostics = diagnostics;
    }

    public bool HasErrors => ErrorCount > 0;

    public List<ManifestDiagnostic> Diagnostics => _diagnostics;

    public int ErrorCount { get; private set; }

    public void Error(string field, string message)
    {
        _diagnostics.Add(new(_file, field, message));
        ErrorCount++;
    }

    public void Warning(string field, string message) => _diagnostics.Add(new(_file, field, message, DiagnosticSeverity.Warning));

    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    public static string Index(string path, int index) => $"{path}[{index}]";

    /// <summary>Collects an object's properties by name, reporting duplicates and (as warnings) names not in <paramref name="known"/>.</summary>
    public Dictionary<string, JsonElement>? Properties(JsonElement element, string path, IReadOnlySet<string>? known, bool required = true)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            if (required || element.ValueKind != JsonValueKind.Undefined)
            {
                Error(path, $"must be a JSON object, not {Describe(element)}");
            }

            return null;
        }

        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!result.TryAdd(property.Name, property.Value))
            {
                Error(Join(path, property.Name), "appears more than once; keep a single entry");
                continue;
            }

            if (known is not null && !known.Contains(property.Name))
            {
                Warning(Join(path, property.Name), "is not a known field and is ignored; check its spelling against the schema");
            }
        }

        return result;
    }

    public string? String(Dictionary<string, JsonElement> obj, string name, string path, bool required, int maxLength = 4096, bool allowEmpty = false)
    {
        var field = Join(path, name);
        if (!obj.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(field, "is required");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            Error(field, $"must be a string, not {Describe(value)}");
            return null;
        }

        var text = value.GetString()!;
        if (!allowEmpty && string.IsNullOrWhiteSpace(text))
        {
            Error(field, "must not be empty");
            return null;
        }

        if (text.Length > maxLength)
        {
            Error(field, $"is {text.Length} characters long; the limit is {maxLength}");
            return null;
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            Error(field, "must not contain a NUL character");
            return null;
        }

        return text;
    }

    public IReadOnlyList<string> StringArray(Dictionary<string, JsonElement> obj, string name, string path, int maxItems = 1024, int maxLength = 4096)
    {
        var field = Join(path, name);
        if (!obj.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Error(field, $"must be an array of strings, not {Describe(value)}");
            return [];
        }

        var items = new List<string>();
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (i >= maxItems)
            {
                Error(field, $"has more than {maxItems} items");
                break;
            }

            if (item.ValueKind != JsonValueKind.String)
            {
                Error(Index(field, i), $"must be a string, not {Describe(item)}");
            }
            else if (item.GetString() is { } s && (s.Length > maxLength || s.Contains('\0', StringComparison.Ordinal)))
            {
                Error(Index(field, i), s.Length > maxLength ? $"is longer than {maxLength} characters" : "must not contain a NUL character");
            }
            else
            {
                items.Add(item.GetString()!);
            }

            i++;
        }

        return items;
    }

    public Dictionary<string, string> StringMap(Dictionary<string, JsonElement> obj, string name, string path, StringComparer comparer, int maxItems = 512)
    {
        var field = Join(path, name);
        var map = new Dictionary<string, string>(comparer);
        if (!obj.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return map;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            Error(field, $"must be an object of string values, not {Describe(value)}");
            return map;
        }

        foreach (var property in value.EnumerateObject())
        {
            var itemField = Join(field, property.Name);
            if (map.Count >= maxItems)
            {
                Error(field, $"has more than {maxItems} entries");
                break;
            }

            if (property.Name.Length == 0 || property.Name.Contains('\0', StringComparison.Ordinal) || property.Name.Contains('=', StringComparison.Ordinal) && comparer == StringComparer.Ordinal)
            {
                Error(itemField, "is not a valid name");
                continue;
            }

            if (property.Value.ValueKind != JsonValueKind.String)
            {
                Error(itemField, $"must be a string, not {Describe(property.Value)}");
                continue;
            }

            if (!map.TryAdd(property.Name, property.Value.GetString()!))
            {
                Error(itemField, "appears more than once; keep a single entry");
            }
        }

        return map;
    }

    public int? Integer(Dictionary<string, JsonElement> obj, string name, string path, int min, int max)
    {
        var field = Join(path, name);
        if (!obj.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            Error(field, $"must be a whole number, not {Describe(value)}");
            return null;
        }

        if (number < min || number > max)
        {
            Error(field, $"must be between {min} and {max}, not {number}");
            return null;
        }

        return (int)number;
    }

    public bool? Boolean(Dictionary<string, JsonElement> obj, string name, string path)
    {
        if (!obj.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(Join(path, name), $"must be true or false, not {Describe(value)}");
            return null;
        }

        return value.GetBoolean();
    }

    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
