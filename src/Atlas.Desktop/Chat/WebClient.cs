using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.Chat;

/// <summary>The chat screen of the mobile web client (plain JS modules in wwwroot, no build step). The pages hold no
/// secrets; the device credential stays in the browser and every API call authenticates itself. <c>sw.js</c> is the
/// service worker that keeps the static shell for offline starts (browsers run it only with a trusted certificate).</summary>
internal static class WebClient
{
    public static void MapWebClient(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => StaticAssets.Serve("app.html")).AllowAnonymous();
        foreach (var asset in new[] { "app.js", "app-net.js", "app-db.js", "app-files.js", "app-media.js", "app-ui.js", "app-markdown.js", "app-messages.js", "app.css", "sw.js" })
        {
            app.MapGet("/" + asset, () => StaticAssets.Serve(asset)).AllowAnonymous();
        }

        // Markdown and sanitizing (npm packages pinned in web/package-lock.json, embedded by the build).
        foreach (var asset in new[] { "vendor/markdown-it.js", "vendor/dompurify.js" })
        {
            app.MapGet("/" + asset, () => StaticAssets.Serve(asset)).AllowAnonymous();
        }
    }
}
