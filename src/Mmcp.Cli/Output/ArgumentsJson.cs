using System.Text.Json;

namespace Mmcp.Cli.Output;

/// <summary>Reads the <c>--args</c> of <c>call</c> and <c>prompt</c>: a JSON object given inline, as <c>@file</c>, or as <c>-</c> for standard input.</summary>
internal static class ArgumentsJson
{
    private const int MaxBytes = 16 << 20;

    public static bool TryParse(string? text, out Dictionary<string, object?>? arguments, out string? error)
    {
        arguments = null;
        error = null;
        if (text is null)
        {
            return true;
        }

        string json;
        try
        {
            json = text switch
            {
                "-" => Console.In.ReadToEnd(),
                ['@', .. var path] => new FileInfo(path) is { Exists: true, Length: <= MaxBytes } ? File.ReadAllText(path) : throw new IOException($"'{path}' does not exist or is larger than {MaxBytes} bytes"),
                _ => text,
            };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"--args {text}: {ex.Message}.";
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                error = $"--args must be a JSON object such as '{{\"path\": \"docs\"}}', not a {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.";
                return false;
            }

            arguments = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone(), StringComparer.Ordinal);
            return true;
        }
        catch (JsonException ex)
        {
            error = $"--args is not valid JSON (line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1}): {ex.Message.Split(" LineNumber", 2)[0]} Quote it for your shell, for example --args '{{\"text\": \"hi\"}}'.";
            return false;
        }
    }
}
