using System.Buffers;
using System.Collections.Frozen;
using System.Text;

namespace Mmcp.Gateway.Search;

/// <summary>
/// The text handling of tool search: names split into words, requests and definitions split into normalized words
/// (lower case, stop words dropped, optionally stemmed), and a small table of verb and noun synonyms.
/// </summary>
internal static class ToolSearchText
{
    private static readonly FrozenSet<string> StopWords = FrozenSet.Create(StringComparer.Ordinal, "the", "a", "an", "of", "to", "and", "or", "in", "on", "for", "is", "it", "be", "by", "with", "this", "that", "from", "as", "at");

    // Words that ask for the same action or name the same thing in tool definitions (general English, not the bench's).
    private static readonly string[][] SynonymGroups =
    [
        ["create", "make", "new", "add"],
        ["delete", "remove", "erase", "drop", "destroy"],
        ["get", "fetch", "retrieve", "read", "show", "view", "display"],
        ["list", "show", "enumerate"],
        ["search", "find", "look", "lookup", "query", "locate"],
        ["update", "edit", "modify", "change"],
        ["send", "post"],
        ["run", "execute", "launch", "trigger"],
        ["stop", "kill", "terminate", "halt"],
        ["folder", "directory"],
        ["image", "picture", "photo"],
        ["email", "mail"],
    ];

    private static readonly FrozenDictionary<string, string[]> Synonyms = BuildSynonyms();

    private static readonly SearchValues<char> Vowels = SearchValues.Create("aeiouy");

    /// <summary>A tool or server name as lower-case words: split at non-letters and camelCase boundaries ("getFileContents" → "get file contents").</summary>
    public static string Words(string name)
    {
        var text = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (!char.IsLetterOrDigit(c))
            {
                if (text.Length > 0 && text[^1] != ' ')
                {
                    text.Append(' ');
                }

                continue;
            }

            if (i > 0 && char.IsUpper(c) && char.IsLower(name[i - 1]))
            {
                text.Append(' ');
            }

            text.Append(char.ToLowerInvariant(c));
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>Splits into lower-case words at non-letters and camelCase boundaries; drops one-letter words and stop words; stems each (<see cref="Stem"/>) or only strips a plural 's'.</summary>
    public static IEnumerable<string> Tokenize(string? text, bool stems)
    {
        if (string.IsNullOrEmpty(text))
        {
            yield break;
        }

        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var boundary = i == text.Length || !char.IsLetterOrDigit(text[i]) || (i > 0 && char.IsUpper(text[i]) && char.IsLower(text[i - 1]));
            if (boundary)
            {
                if (start >= 0 && i - start > 1)
                {
                    var word = text[start..i].ToLowerInvariant();
                    if (!StopWords.Contains(word))
                    {
                        yield return stems ? Stem(word) : StripPlural(word);
                    }
                }

                start = i < text.Length && char.IsLetterOrDigit(text[i]) ? i : -1;
            }
            else if (start < 0)
            {
                start = i;
            }
        }
    }

    /// <summary>
    /// A light suffix stemmer, so the forms of one word meet: "-ies" → "y", then a plural "s", "-ing" and "-ed" (with a
    /// doubled consonant undone) and a final "e" are removed ("creates", "created", "creating", "create" → "creat").
    /// </summary>
    public static string Stem(string word)
    {
        var w = word;
        if (w.Length > 4 && w.EndsWith("ies", StringComparison.Ordinal))
        {
            w = w[..^3] + "y";
        }
        else
        {
            w = StripPlural(w);
        }

        if (w.Length > 5 && w.EndsWith("ing", StringComparison.Ordinal) && HasVowel(w.AsSpan(0, w.Length - 3)))
        {
            w = Undouble(w[..^3]);
        }
        else if (w.Length > 5 && w.EndsWith("ed", StringComparison.Ordinal) && HasVowel(w.AsSpan(0, w.Length - 2)))
        {
            w = Undouble(w[..^2]);
        }

        return w.Length > 3 && w.EndsWith('e') ? w[..^1] : w;
    }

    /// <summary>The normalized synonyms of a normalized word (empty when it has none).</summary>
    public static IReadOnlyList<string> SynonymsOf(string normalized) => Synonyms.TryGetValue(normalized, out var found) ? found : [];

    private static string StripPlural(string word) => word.Length > 3 && word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) ? word[..^1] : word;

    private static bool HasVowel(ReadOnlySpan<char> text) => text.IndexOfAny(Vowels) >= 0;

    private static string Undouble(string w) => w.Length > 3 && w[^1] == w[^2] && w[^1] is not ('l' or 's' or 'z') && !Vowels.Contains(w[^1]) ? w[..^1] : w;

    private static FrozenDictionary<string, string[]> BuildSynonyms()
    {
        var map = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var group in SynonymGroups)
        {
            var stems = group.Select(Stem).ToArray();
            foreach (var stem in stems)
            {
                if (!map.TryGetValue(stem, out var set))
                {
                    map[stem] = set = new HashSet<string>(StringComparer.Ordinal);
                }

                set.UnionWith(stems.Where(s => s != stem));
            }
        }

        return map.ToFrozenDictionary(p => p.Key, p => p.Value.Order(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);
    }
}
