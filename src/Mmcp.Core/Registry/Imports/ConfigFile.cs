using System.Text.Json;
using Mmcp.Core.Manifests;

namespace Mmcp.Core.Registry.Imports;

/// <summary>Reads other tools' configuration files: JSON with comments and trailing commas (as VS Code writes them), size-limited.</summary>
internal static class ConfigFile
{
    public const int MaxBytes = 4 << 20;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = ManifestReader.MaxDepth, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Parses the file, or returns <see langword="null"/> (with a diagnostic unless the file simply does not exist).</summary>
    public static JsonDocument? TryRead(string path, List<ManifestDiagnostic> diagnostics)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return null;
            }

            if (info.Length > MaxBytes)
            {
                diagnostics.Add(new ManifestDiagnostic(path, string.Empty, $"is {info.Length} bytes; configuration files larger than {MaxBytes} bytes are not read"));
                return null;
            }

            var bytes = File.ReadAllBytes(path);
            if (!System.Text.Unicode.Utf8.IsValid(bytes))
            {
                diagnostics.Add(new ManifestDiagnostic(path, string.Empty, "is not valid UTF-8 text"));
                return null;
            }

            var json = bytes.AsMemory();
            return JsonDocument.Parse(json.Span.StartsWith("\uFEFF"u8) ? json[3..] : json, Options);
        }
        catch (JsonException ex)
        {
            diagnostics.Add(new ManifestDiagnostic(path, string.Empty, $"is not valid JSON: {ManifestReader.StripPosition(ex.Message)}", DiagnosticSeverity.Error, ex.LineNumber + 1));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(new ManifestDiagnostic(path, string.Empty, $"cannot be read: {ex.Message}"));
        }

        return null;
    }

    /// <summary>Reads a dotenv file (<c>KEY=VALUE</c> lines, <c>#</c> comments, optional quotes).</summary>
    public static Dictionary<string, string>? TryReadEnvFile(string path, string field, string source, List<ManifestDiagnostic> diagnostics)
    {
        try
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var raw in File.ReadLines(path))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                if (line.StartsWith("export ", StringComparison.Ordinal))
                {
                    line = line[7..].TrimStart();
                }

                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    continue;
                }

                var value = line[(eq + 1)..].Trim();
                if (value.Length >= 2 && (value[0] == '"' && value[^1] == '"' || value[0] == '\'' && value[^1] == '\''))
                {
                    value = value[1..^1];
                }

                result[line[..eq].Trim()] = value;
            }

            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(new ManifestDiagnostic(source, field, $"names '{path}', which cannot be read: {ex.Message}"));
            return null;
        }
    }
}
