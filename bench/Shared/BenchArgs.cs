using System.Globalization;

namespace Bench;

/// <summary>
/// The command line of a benchmark: <c>-h</c>/<c>--help</c> prints the usage and exits 0; an unknown option, an
/// option without its value or a number that is not one prints what was wrong and the usage, and exits 2 — so a typo
/// never starts a run of many minutes with the defaults. Linked into every project under <c>bench/</c>.
/// </summary>
internal sealed class BenchArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _switches = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];

    private BenchArgs()
    {
    }

    /// <summary>Set when the program should stop at once with this exit code (help shown, or bad arguments).</summary>
    public int? Exit { get; private set; }

    /// <summary>The bare word given (one of the parser's <c>words</c>), else null.</summary>
    public string? Word { get; private set; }

    /// <summary>Reads <paramref name="args"/>.</summary>
    /// <param name="args">The program's arguments.</param>
    /// <param name="usage">The usage text printed by <c>--help</c> and after an error.</param>
    /// <param name="numbers">Options followed by a whole number (<c>--calls 3000</c>).</param>
    /// <param name="texts">Options followed by any text.</param>
    /// <param name="switches">Options that stand alone.</param>
    /// <param name="positional">How many whole numbers may be given without a name, in order.</param>
    /// <param name="words">Bare words of which one may be given (a mode such as <c>all</c>).</param>
    public static BenchArgs Parse(string[] args, string usage, string[]? numbers = null, string[]? texts = null, string[]? switches = null, int positional = 0, string[]? words = null)
    {
        words ??= [];
        numbers ??= [];
        texts ??= [];
        switches ??= [];
        var parsed = new BenchArgs();
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(usage);
            parsed.Exit = 0;
            return parsed;
        }

        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var isNumber = numbers.Contains(arg);
            if (isNumber || texts.Contains(arg))
            {
                if (i + 1 >= args.Length)
                {
                    return parsed.Fail($"{arg} needs a value", usage);
                }

                var value = args[++i];
                if (isNumber && !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return parsed.Fail($"{arg} needs a whole number, not '{value}'", usage);
                }

                parsed._values[arg] = value;
            }
            else if (switches.Contains(arg))
            {
                parsed._switches.Add(arg);
            }
            else if (words.Contains(arg) && parsed.Word is null)
            {
                parsed.Word = arg;
            }
            else if (!arg.StartsWith('-') && parsed._positional.Count < positional)
            {
                if (!int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return parsed.Fail($"argument {parsed._positional.Count + 1} needs a whole number, not '{arg}'", usage);
                }

                parsed._positional.Add(arg);
            }
            else
            {
                return parsed.Fail($"unknown argument '{arg}'", usage);
            }
        }

        return parsed;
    }

    /// <summary>The whole number given for <paramref name="name"/>, else <paramref name="fallback"/>.</summary>
    public int Number(string name, int fallback) =>
        _values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The text given for <paramref name="name"/>, else null.</summary>
    public string? Text(string name) => _values.GetValueOrDefault(name);

    /// <summary>Whether the switch <paramref name="name"/> was given.</summary>
    public bool Has(string name) => _switches.Contains(name);

    /// <summary>The <paramref name="index"/>th unnamed whole number, else <paramref name="fallback"/>.</summary>
    public int Positional(int index, int fallback) =>
        index < _positional.Count ? int.Parse(_positional[index], CultureInfo.InvariantCulture) : fallback;

    private BenchArgs Fail(string problem, string usage)
    {
        Console.Error.WriteLine($"error: {problem}.");
        Console.Error.WriteLine(usage);
        Exit = 2;
        return this;
    }
}
