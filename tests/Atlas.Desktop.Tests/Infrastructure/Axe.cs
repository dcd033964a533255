using System.Text.Json;
using Microsoft.Playwright;

namespace Atlas.Desktop.Tests.Infrastructure;

/// <summary>axe-core (npm, pinned in eng/npm, installed by eng/install-deps.sh) injected into a page; reports the
/// serious and critical violations, as "rule: help — target (summary)" lines.</summary>
internal static class Axe
{
    private static readonly Lazy<string> Source = new(() =>
    {
        var path = Path.Combine(Repository.Root, "eng", "npm", "node_modules", "axe-core", "axe.min.js");
        return File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException($"{path} is missing: run eng/install-deps.sh.");
    });

    public static async Task<List<string>> SeriousViolationsAsync(IPage page)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof axe === 'object'"))
        {
            // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not restrict.
            await page.EvaluateAsync(Source.Value + "\n;true");
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
}
