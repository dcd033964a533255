// Writes the hardening table of docs/atlas-security.md from the test sources and the TRX files of a test run.
// Run through eng/security-table.sh. Arguments: <repo root> <folder with .trx files> <markdown file>.
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

const string Start = "<!-- hardening-table:start (eng/security-table.sh writes this table) -->";
const string End = "<!-- hardening-table:end -->";

var root = args[0];
var results = args[1];
var target = Path.Combine(root, args[2]);

var outcomes = new Dictionary<string, string>(StringComparer.Ordinal);
foreach (var trx in Directory.Exists(results) ? Directory.GetFiles(results, "*.trx") : [])
{
    var doc = XDocument.Load(trx);
    foreach (var result in doc.Descendants().Where(e => e.Name.LocalName == "UnitTestResult"))
    {
        var name = (string?)result.Attribute("testName") ?? "";
        var method = name.Split('(')[0].Split('.').Last();
        var outcome = (string?)result.Attribute("outcome") ?? "?";
        outcomes[method] = outcomes.TryGetValue(method, out var seen) && seen != "Passed" ? seen : outcome;
    }
}

var testMethod = new Regex(@"(?:public|internal)\s+(?:async\s+)?(?:Task|ValueTask|void)\s+(\w+)\s*\(", RegexOptions.Compiled);
var trait = new Regex(@"\[Trait\(""Hardening"",\s*""(\d+)""\)\]", RegexOptions.Compiled);
var rows = new List<(int Item, string Tried, string Test, string File, string Result)>();
foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories))
{
    if (file.Contains("/bin/", StringComparison.Ordinal) || file.Contains("/obj/", StringComparison.Ordinal))
    {
        continue;
    }

    var lines = File.ReadAllLines(file);
    var summary = new StringBuilder();
    var items = new List<int>();
    foreach (var raw in lines)
    {
        var line = raw.Trim();
        if (line.StartsWith("///", StringComparison.Ordinal))
        {
            summary.Append(' ').Append(Regex.Replace(line[3..], "</?summary>|<c>|</c>|<see cref=\"([^\"]+)\"\\s*/>", m => m.Groups[1].Value).Trim());
            continue;
        }

        foreach (Match m in trait.Matches(line))
        {
            items.Add(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }

        var method = testMethod.Match(line);
        if (method.Success)
        {
            var name = method.Groups[1].Value;
            foreach (var item in items)
            {
                var result = outcomes.TryGetValue(name, out var o) ? (o == "Passed" ? "held" : o.ToLowerInvariant()) : "not run";
                rows.Add((item, summary.ToString().Trim(), name, Path.GetRelativePath(root, file), result));
            }
        }

        if (!line.StartsWith('[') && line.Length > 0)
        {
            summary.Clear();
            items.Clear();
        }
    }
}

var table = new StringBuilder();
table.AppendLine(Start);
table.AppendLine("| # | What was tried | What holds (test) | Result |");
table.AppendLine("|---:|---|---|---|");
foreach (var row in rows.OrderBy(r => r.Item).ThenBy(r => r.Test, StringComparer.Ordinal))
{
    var tried = row.Tried.Length == 0 ? "(no summary)" : row.Tried.Replace("|", "\\|", StringComparison.Ordinal);
    table.AppendLine(FormattableString.Invariant($"| {row.Item} | {tried} | [`{row.Test}`]({Path.GetRelativePath(Path.GetDirectoryName(target)!, Path.Combine(root, row.File))}) | {row.Result} |"));
}

var held = rows.Count(r => r.Result == "held");
table.AppendLine();
table.AppendLine(FormattableString.Invariant($"{held} of {rows.Count} held in the run of {TimeProvider.System.GetUtcNow():yyyy-MM-dd}."));
table.Append(End);

var text = File.ReadAllText(target);
var from = text.IndexOf(Start, StringComparison.Ordinal);
var to = text.IndexOf(End, StringComparison.Ordinal);
text = from >= 0 && to > from
    ? string.Concat(text.AsSpan(0, from), table.ToString(), text.AsSpan(to + End.Length))
    : text.TrimEnd() + "\n\n## What was tried and what held\n\n" + table + "\n";
File.WriteAllText(target, text);
Console.WriteLine(FormattableString.Invariant($"{target}: {rows.Count} rows, {held} held"));
return rows.Count > 0 && held == rows.Count ? 0 : 1;
