using System.Buffers;

namespace Shared.Text;

/// <summary>
/// The invisible characters that change the direction text is laid out in: the embeddings and overrides (U+202A–U+202E),
/// the isolates (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C). A bidi-aware terminal or page lets one of them
/// reorder everything after it on the line, so a name that carries one can reverse a check code printed next to it
/// ("Trojan Source", CVE-2021-42574). U+200D (zero-width joiner) is not one: emoji sequences need it.
/// </summary>
internal static class BidiControls
{
    private static readonly SearchValues<char> All = SearchValues.Create(
        "\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary>Whether <paramref name="c"/> is a bidirectional control character.</summary>
    public static bool Is(char c) => All.Contains(c);

    /// <summary>Whether <paramref name="text"/> contains a bidirectional control character.</summary>
    public static bool In(string? text) => text is not null && text.AsSpan().ContainsAny(All);
}
