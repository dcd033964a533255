using System.Text.Json;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Browser;

/// <summary>The web client's cached conversation list (wwwroot/app-db.js, what it shows offline) is in the desktop's
/// order: most recently updated first, ties by id.</summary>
[Trait("Speed", "slow")]
public sealed class OfflineListOrderTests : ChromiumTest
{
    /// <summary>Regression (trial F7): the cache sorted the ISO times with localeCompare, which puts '.' before '+', so a
    /// conversation updated at a whole second ("…:07+00:00", how the desktop writes .000) came after one updated later in
    /// that second ("…:07.5+00:00"); and ties kept no order.</summary>
    [Fact]
    public async Task CachedConversations_AreNewestFirst_TiesById_LikeTheDesktop()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var context = await Browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        await using var _ = context;
        context.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(host.BaseUri, "/wire.js").ToString());

        var ids = JsonSerializer.Deserialize<string[]>(await page.EvaluateAsync<string>("""
            async () => {
              const { cache } = await import("/app-db.js");
              await cache.replaceConversations([
                { id: "cnv_whole", updatedAt: "2026-11-23T14:01:07+00:00" },
                { id: "cnv_later", updatedAt: "2026-11-23T14:01:07.5+00:00" },
                { id: "cnv_b", updatedAt: "2026-11-23T14:01:06.25+00:00" },
                { id: "cnv_a", updatedAt: "2026-11-23T14:01:06.25+00:00" },
                { id: "cnv_old", updatedAt: "2026-11-22T09:00:00.123+00:00" },
              ]);
              return JSON.stringify((await cache.conversations()).map((c) => c.id));
            }
            """))!;

        Assert.Equal(["cnv_later", "cnv_whole", "cnv_a", "cnv_b", "cnv_old"], ids);
    }
}
