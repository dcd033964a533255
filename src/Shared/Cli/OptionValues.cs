using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Shared.Cli;

/// <summary>
/// Number and choice options whose errors say what was expected. System.CommandLine's own conversion error names a CLR type
/// ("as expected type 'System.Nullable`1[System.Int64]'"), and a validator that reads a value it could not convert
/// throws instead of reporting. Compiled into each command line that needs it.
/// </summary>
internal static class OptionValues
{
    /// <summary>Parses the option's value as a number in [<paramref name="min"/>, <paramref name="max"/>] (either bound may be
    /// left out), with an error naming the option, what it expects and the value given.</summary>
    /// <typeparam name="T">The number type.</typeparam>
    /// <param name="option">The option.</param>
    /// <param name="expected">What the option takes, for the error ("a port number", "a size in bytes").</param>
    /// <param name="min">The smallest value accepted.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <param name="check">A further check of a value in range: an error message, or <see langword="null"/> when it is fine.</param>
    /// <returns>The option.</returns>
    public static Option<T> ParsedAsNumber<T>(this Option<T> option, string expected, T? min = null, T? max = null, Func<T, string?>? check = null)
        where T : struct, INumber<T>, IMinMaxValue<T>
    {
        option.CustomParser = result => Parse(result, option.Name, expected, min, max, check, out var value) ? value : default;
        return option;
    }

    /// <summary>The same for an option whose absence means "not given".</summary>
    /// <typeparam name="T">The number type.</typeparam>
    /// <param name="option">The option.</param>
    /// <param name="expected">What the option takes, for the error.</param>
    /// <param name="min">The smallest value accepted.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <param name="check">A further check of a value in range.</param>
    /// <returns>The option.</returns>
    public static Option<T?> ParsedAsNumber<T>(this Option<T?> option, string expected, T? min = null, T? max = null, Func<T, string?>? check = null)
        where T : struct, INumber<T>, IMinMaxValue<T>
    {
        option.CustomParser = result => Parse(result, option.Name, expected, min, max, check, out var value) ? value : null;
        return option;
    }

    /// <summary>
    /// Parses the option's value as one of an enum's members, written in kebab case ("trust-on-first-use" for
    /// TrustOnFirstUse) in any letter case, with an error listing the accepted values; the help shows them too.
    /// </summary>
    /// <typeparam name="T">The enum.</typeparam>
    /// <param name="option">The option.</param>
    /// <returns>The option.</returns>
    public static Option<T> ParsedAsChoice<T>(this Option<T> option)
        where T : struct, Enum
    {
        var names = Enum.GetValues<T>().ToDictionary(KebabCase, StringComparer.OrdinalIgnoreCase);
        option.HelpName = string.Join('|', names.Keys);
        option.CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return default;
            }

            var text = result.Tokens[^1].Value;
            if (names.TryGetValue(text, out var value))
            {
                return value;
            }

            result.AddError($"{option.Name} takes {Alternatives([.. names.Keys])}, not '{text}'.");
            return default;
        };
        option.CompletionSources.Add(names.Keys.ToArray());
        return option;
    }

    private static string KebabCase<T>(T value)
        where T : struct, Enum
    {
        var name = value.ToString();
        var text = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static string Alternatives(string[] names) =>
        names.Length == 1 ? names[0] : string.Join(", ", names[..^1]) + " or " + names[^1];

    private static bool Parse<T>(ArgumentResult result, string name, string expected, T? min, T? max, Func<T, string?>? check, out T value)
        where T : struct, INumber<T>, IMinMaxValue<T>
    {
        value = default;
        if (result.Tokens.Count == 0)
        {
            return false;
        }

        var text = result.Tokens[^1].Value;
        var fractions = typeof(T) == typeof(double) || typeof(T) == typeof(float) || typeof(T) == typeof(decimal);
        if (!T.TryParse(text, fractions ? NumberStyles.Float : NumberStyles.Integer, CultureInfo.InvariantCulture, out value))
        {
            result.AddError($"{name} takes {Range(expected, min, max)}, not '{text}'.");
            return false;
        }

        if (value < min || value > max) // a null bound compares false: no bound
        {
            result.AddError($"{name} takes {Range(expected, min, max)}, not {Show(value)}.");
            return false;
        }

        if (check?.Invoke(value) is { } problem)
        {
            result.AddError(problem);
            return false;
        }

        return true;
    }

    private static string Range<T>(string expected, T? min, T? max)
        where T : struct, INumber<T>, IMinMaxValue<T> => (min, max) switch
        {
            ({ } low, { } high) => $"{expected} from {Show(low)} to {Show(high)}",
            ({ } low, null) => $"{expected} of at least {Show(low)}",
            (null, { } high) => $"{expected} of at most {Show(high)}",
            _ => expected,
        };

    private static string Show<T>(T value)
        where T : struct, INumber<T> => value.ToString(null, CultureInfo.InvariantCulture);
}
