using System.Globalization;
using System.Text.RegularExpressions;
using Atlas.Client.Protocol;
using Microsoft.AspNetCore.Http.Metadata;

namespace Atlas.Desktop.Diagnostics;

/// <summary>
/// Request values an endpoint could not bind (<c>?overwrite=yes</c> for a <c>bool?</c>) answered in Atlas's error shape.
/// Minimal APIs bind parameters before any endpoint filter runs, so <see cref="AtlasExceptionFilter"/> never sees these,
/// and by default they get a 400 with an empty body. Two ways out, both handled here for every endpoint: with
/// <see cref="RouteHandlerOptions.ThrowOnBadRequest"/> most failures are thrown (and caught around the endpoint); the
/// request delegate generator's parse failure of an optional value is not thrown but leaves an empty 400, which is
/// filled in afterwards, naming the parameter found in the endpoint's <see cref="IParameterBindingMetadata"/>.
/// </summary>
internal static partial class BindingErrors
{
    private const int MaxShownValue = 64;

    private static readonly (Type Type, string[] Names, string Accepted, Func<string, bool> Parses)[] Kinds =
    [
        (typeof(bool), ["bool", "Boolean"], "true or false", s => bool.TryParse(s, out _)),
        (typeof(int), ["int", "Int32"], "a whole number", s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)),
        (typeof(long), ["long", "Int64"], "a whole number", s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)),
        (typeof(double), ["double", "Double"], "a number", s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)),
        (typeof(Guid), ["Guid"], "a GUID", s => Guid.TryParse(s, out _)),
        (typeof(DateTimeOffset), ["DateTimeOffset"], "a date and time (ISO 8601)",
            s => DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out _)),
        (typeof(TimeSpan), ["TimeSpan"], "a duration (hh:mm:ss)", s => TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out _)),
    ];

    /// <summary>Makes binding failures throw (to <see cref="UseAtlasBindingErrors"/>) instead of answering an empty 400.</summary>
    public static IServiceCollection AddAtlasBindingErrors(this IServiceCollection services) =>
        services.PostConfigure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

    /// <summary>Answers a binding failure as <c>bad_request</c> (<c>too_large</c> for an oversized body); call after
    /// authorization, so it wraps the endpoints.</summary>
    public static IApplicationBuilder UseAtlasBindingErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await ApiErrors.WriteAsync(context, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? ErrorCodes.TooLarge : ErrorCodes.BadRequest,
                Describe(e)).ConfigureAwait(false);
            return;
        }

        if (context.Response is { StatusCode: StatusCodes.Status400BadRequest, HasStarted: false, ContentLength: null or 0 }
            && context.GetEndpoint() is { } endpoint)
        {
            await ApiErrors.WriteAsync(context, ErrorCodes.BadRequest, DescribeUnbound(context, endpoint)).ConfigureAwait(false);
        }
    });

    /// <summary>The message for a thrown binding failure: which parameter, which value, and what it takes.</summary>
    internal static string Describe(BadHttpRequestException exception)
    {
        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return "The request body is larger than allowed.";
        }

        var match = FailedToBind().Match(exception.Message);
        if (!match.Success)
        {
            return exception.Message;
        }

        var type = match.Groups["type"].Value.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('?', '>');
        var accepted = Kinds.FirstOrDefault(k => k.Names.Contains(type, StringComparer.Ordinal)).Accepted ?? "a value of type " + type;
        return Message(match.Groups["name"].Value, match.Groups["value"].Value, accepted);
    }

    /// <summary>For an empty 400 left by binding: the first parameter whose value does not parse as its type.</summary>
    private static string DescribeUnbound(HttpContext context, Endpoint endpoint)
    {
        foreach (var parameter in endpoint.Metadata.GetOrderedMetadata<IParameterBindingMetadata>())
        {
            var value = context.Request.RouteValues.TryGetValue(parameter.Name, out var routeValue) && routeValue is string fromRoute
                ? fromRoute
                : context.Request.Query[parameter.Name].ToString();
            var type = Nullable.GetUnderlyingType(parameter.ParameterInfo.ParameterType) ?? parameter.ParameterInfo.ParameterType;
            if (!parameter.HasTryParse || value.Length == 0)
            {
                continue;
            }

            if (type.IsEnum && !Enum.TryParse(type, value, ignoreCase: true, out _))
            {
                return Message(parameter.Name, value, "one of " + string.Join(", ", Enum.GetNames(type)));
            }

            var kind = Kinds.FirstOrDefault(k => k.Type == type);
            if (kind.Parses is not null && !kind.Parses(value))
            {
                return Message(parameter.Name, value, kind.Accepted);
            }
        }

        return "The request is not valid: a value in it could not be read as what this endpoint takes.";
    }

    private static string Message(string parameter, string value, string accepted)
    {
        var shown = new string([.. value.Take(MaxShownValue).Select(c => char.IsControl(c) ? '?' : c)]) + (value.Length > MaxShownValue ? "…" : "");
        return $"The value '{shown}' of parameter '{parameter}' is not valid; it takes {accepted}.";
    }

    // The framework's message (RequestDelegateFactory and the request delegate generator): Failed to bind parameter
    // "<type> <name>" from "<value>".
    [GeneratedRegex("""^Failed to bind parameter "(?<type>.+) (?<name>[^ "]+)" from "(?<value>.*)"\.$""", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex FailedToBind();
}
