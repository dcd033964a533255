using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.Chat;

/// <summary>The chat screen of the mobile web client (plain JS modules in wwwroot, no build step). The pages hold no
/// secrets; the device credential stays in the browser and every API call authenticates itself.</summary>
internal static class WebClient
{
    public static void MapWebClient(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => StaticAssets.Serve("app.html")).AllowAnonymous();
        foreach (var asset in new[] { "app.js", "app-net.js", "app-db.js", "app.css" })
        {
            app.MapGet("/" + asset, () => StaticAssets.Serve(asset)).AllowAnonymous();
        }
    }
}
