using System.Collections.Concurrent;

namespace Atlas.Desktop.Hosting;

/// <summary>Serves the plain HTML/JS of <c>wwwroot</c>, embedded in the executable so the app works from any directory.</summary>
internal static class StaticAssets
{
    private static readonly ConcurrentDictionary<string, byte[]> Cache = new(StringComparer.Ordinal);

    public static IResult Serve(string name)
    {
        var bytes = Cache.GetOrAdd(name, static n =>
        {
            using var stream = typeof(StaticAssets).Assembly.GetManifestResourceStream("wwwroot/" + n)
                ?? throw new InvalidOperationException($"The embedded asset wwwroot/{n} is missing from the build.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        });
        var type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => "application/octet-stream",
        };
        return Results.Bytes(bytes, type);
    }
}
