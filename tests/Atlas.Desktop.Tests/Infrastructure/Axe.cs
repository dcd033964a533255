using System.Text.Json;
using Microsoft.Playwright;

namespace Atlas.Desktop.Tests.Infrastructure;

/// <summary>axe-core (npm, pinned in eng/npm, installed by eng/install-deps.sh) injected into a page; reports the
/// serious and critical violations, as "rule: help — target (summary)" lines.</summary>
internal static class Axe
{
    private static readonly Lazy<string> Source = new(() =>
    {
        var path = Path.Combine(RepoRoot(), "eng", "npm", "node_modules", "axe-core", "axe.min.js");
        return File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException($"{path} is missing: run eng/install-deps.sh.");
    });

    public static async Task<List<string>> SeriousViolationsAsync(IPage page)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof axe === 'object'"))
        {
            await page.AddScriptTagAsync(new() { Content = Source.Value });
        }

        var violations = await page.EvaluateAsync<JsonElement>("""
            async () => {
              const result = await axe.run(document, { resultTypes: ["violations"] });
              return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").flatMap((v) =>
                v.nodes.map((n) => `${v.id}: ${v.help} — ${n.target.join(" ")} (${(n.failureSummary ?? "").replace(/\s+/g, " ")})`));
            }
            """);
        return [.. violations.EnumerateArray().Select(v => v.GetString()!)];
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Atlas.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Atlas.slnx not found above " + AppContext.BaseDirectory);
    }
}
