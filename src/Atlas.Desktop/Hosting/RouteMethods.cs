using Atlas.Client.Protocol;
using Atlas.Desktop.Diagnostics;
using Microsoft.AspNetCore.Routing.Template;

namespace Atlas.Desktop.Hosting;

/// <summary>
/// What a request no endpoint took gets: 405 with <c>Allow</c> when its path is a route that takes other methods
/// (<c>GET /files/write</c>), else 404. Routing alone answers 404 there, since the catch-all routes (the fallback and the
/// public assets) take any path.
/// </summary>
internal sealed class RouteMethods(EndpointDataSource endpoints)
{
    private readonly Lazy<IReadOnlyList<(TemplateMatcher Matcher, IReadOnlyList<string> Methods)>> _routes = new(() =>
        [.. endpoints.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is not null && !e.RoutePattern.Parameters.Any(p => p.IsCatchAll))
            .Select(e => (e.RoutePattern, Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods))
            .Where(r => r.Methods is { Count: > 0 })
            .Select(r => (new TemplateMatcher(TemplateParser.Parse(r.RoutePattern.RawText!), new RouteValueDictionary()), r.Methods!))]);

    /// <summary>The methods the routes matching <paramref name="path"/> take (none when no route has the path).</summary>
    public IReadOnlyList<string> For(PathString path)
    {
        var methods = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (matcher, taken) in _routes.Value)
        {
            if (matcher.TryMatch(path, new RouteValueDictionary()))
            {
                methods.UnionWith(taken);
            }
        }

        return [.. methods];
    }

    /// <summary>The answer to a request no endpoint took: 405 naming the methods its path takes, or 404.</summary>
    public static IResult NoEndpoint(HttpContext context)
    {
        var allowed = context.RequestServices.GetRequiredService<RouteMethods>().For(context.Request.Path);
        if (allowed.Count == 0 || allowed.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase))
        {
            return ApiErrors.Result(ErrorCodes.NotFound, $"No endpoint at {context.Request.Path}.");
        }

        context.Response.Headers.Allow = string.Join(", ", allowed);
        return ApiErrors.Result(ErrorCodes.MethodNotAllowed, $"{context.Request.Path} takes {string.Join(" or ", allowed)}, not {context.Request.Method}.");
    }
}
