using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.WebClient;

/// <summary>The chat screen of the mobile web client (plain JS modules in wwwroot, no build step). The pages hold no
/// secrets; the device credential stays in the browser and every API call authenticates itself. <c>sw.js</c> is the
/// service worker that keeps the static shell for offline starts (browsers run it only with a trusted certificate).</summary>
internal static class WebClientEndpoints
{
    public static void MapWebClient(this IEndpointRouteBuilder app)
    {
        // Every public file of wwwroot (modules, vendor files, icons, manifest, sw.js) is found by its path: no list to edit.
        app.MapStaticAssets();
    }
}
