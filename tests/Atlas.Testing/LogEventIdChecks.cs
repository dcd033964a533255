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

    /// <summary>Every clash between the assemblies one process loads: <paramref name="entry"/> and every project assembly
    /// (<c>Atlas.*</c>, <c>Mmcp.*</c>) it references, directly or not. Their logs end up in one stream, so an event id
    /// must name one event there: no id used by log methods of two assemblies, and no two assemblies' ranges in
    /// <c>LogEventIds</c> overlapping. Empty when they are disjoint.</summary>
    public static IReadOnlyList<string> ProcessProblems(Assembly entry, out IReadOnlyList<string> checkedAssemblies)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var assemblies = ProjectAssemblies(entry);
        checkedAssemblies = [.. assemblies.Select(a => a.GetName().Name!)];
        var problems = new List<string>();
        var ranges = assemblies.SelectMany(a => RangesOf(a).Select(r => (r.First, r.Last, Assembly: a.GetName().Name!, r.Area))).OrderBy(r => r.First).ToList();
        for (var i = 0; i < ranges.Count; i++)
        {
            for (var j = i + 1; j < ranges.Count && ranges[j].First <= ranges[i].Last; j++)
            {
                if (ranges[i].Assembly != ranges[j].Assembly)
                {
                    problems.Add($"The range {ranges[i].First}-{ranges[i].Last} of {ranges[i].Assembly} ({ranges[i].Area}) overlaps {ranges[j].First}-{ranges[j].Last} of {ranges[j].Assembly} ({ranges[j].Area}): both log in one process; move one to a free range.");
                }
            }
        }

        var seen = new Dictionary<int, string>();
        foreach (var assembly in assemblies)
        {
            var name = assembly.GetName().Name!;
            foreach (var id in LogMethods(assembly).Select(m => m.Id).Where(id => id >= 0).Distinct())
            {
                if (!seen.TryAdd(id, name))
                {
                    problems.Add($"Event id {id} is used by {seen[id]} and by {name}, which log in one process.");
                }
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

    private static List<Assembly> ProjectAssemblies(Assembly entry)
    {
        var found = new Dictionary<string, Assembly>(StringComparer.Ordinal) { [entry.GetName().Name!] = entry };
        var pending = new Queue<Assembly>([entry]);
        while (pending.TryDequeue(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (reference.Name is { } name && (name.StartsWith("Atlas.", StringComparison.Ordinal) || name.StartsWith("Mmcp.", StringComparison.Ordinal))
                    && !found.ContainsKey(name))
                {
                    var loaded = Assembly.Load(reference);
                    found[name] = loaded;
                    pending.Enqueue(loaded);
                }
            }
        }

        return [.. found.Values.OrderBy(a => a.GetName().Name, StringComparer.Ordinal)];
    }

    // Each assembly's registry is an internal LogEventIds.Ranges array of (First, Last, Owner, Area).
    private static IEnumerable<(int First, int Last, string Owner, string Area)> RangesOf(Assembly assembly) =>
        assembly.GetTypes().Where(t => t.Name == "LogEventIds")
            .Select(t => t.GetField("Ranges", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null))
            .OfType<(int First, int Last, string Owner, string Area)[]>()
            .SelectMany(r => r);

    // The owner is a namespace or a type name; a nested logging class (Foo+Log) belongs to its outer type.
    private static bool Owns(string owner, Type type)
    {
        var name = type.FullName!;
        return name.Length == owner.Length ? name == owner
            : name.StartsWith(owner, StringComparison.Ordinal) && name[owner.Length] is '.' or '+';
    }
}
