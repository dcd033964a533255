using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Atlas.Testing;

/// <summary>Checks an assembly's <c>[LoggerMessage]</c> event ids against its <c>LogEventIds</c> registry (compiled
/// into each test project that tests an assembly with log methods).</summary>
public static class LogEventIdChecks
{
    /// <summary>Every problem found: a method without an id, a duplicate id, an id outside every range, an id in a range
    /// another owner holds, or two overlapping ranges. Empty when the registry holds.</summary>
    public static IReadOnlyList<string> Problems(Assembly assembly, IReadOnlyList<(int First, int Last, string Owner, string Area)> ranges)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(ranges);
        var problems = new List<string>();
        var sorted = ranges.OrderBy(r => r.First).ToList();
        for (var i = 0; i < sorted.Count; i++)
        {
            if (sorted[i].First > sorted[i].Last)
            {
                problems.Add($"The range {sorted[i].First}-{sorted[i].Last} ({sorted[i].Area}) ends before it starts.");
            }

            if (i > 0 && sorted[i].First <= sorted[i - 1].Last)
            {
                problems.Add($"The ranges {sorted[i - 1].First}-{sorted[i - 1].Last} ({sorted[i - 1].Area}) and {sorted[i].First}-{sorted[i].Last} ({sorted[i].Area}) overlap.");
            }
        }

        var seen = new Dictionary<int, string>();
        foreach (var (method, id) in LogMethods(assembly))
        {
            var name = $"{method.DeclaringType!.FullName}.{method.Name}";
            if (id < 0)
            {
                problems.Add($"{name} has no event id: take the next free one of its area in LogEventIds.");
                continue;
            }

            if (!seen.TryAdd(id, name))
            {
                problems.Add($"Event id {id} is used twice: by {seen[id]} and by {name}.");
            }

            var range = ranges.Where(r => id >= r.First && id <= r.Last).ToList();
            if (range.Count == 0)
            {
                problems.Add($"Event id {id} of {name} is in no range of LogEventIds: add the area's range there.");
            }
            else if (!range.Any(r => Owns(r.Owner, method.DeclaringType!)))
            {
                problems.Add($"Event id {id} of {name} is in the range {range[0].First}-{range[0].Last} of {range[0].Owner} ({range[0].Area}): take an id of its own area's range.");
            }
        }

        return problems;
    }

    /// <summary>The number of log methods the assembly declares (so a test can tell it looked at some).</summary>
    public static int Count(Assembly assembly) => LogMethods(assembly).Count();

    private static IEnumerable<(MethodInfo Method, int Id)> LogMethods(Assembly assembly) =>
        from type in assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
        where attribute is not null
        select (method, attribute.EventId);

    // The owner is a namespace or a type name; a nested logging class (Foo+Log) belongs to its outer type.
    private static bool Owns(string owner, Type type)
    {
        var name = type.FullName!;
        return name.Length == owner.Length ? name == owner
            : name.StartsWith(owner, StringComparison.Ordinal) && name[owner.Length] is '.' or '+';
    }
}
