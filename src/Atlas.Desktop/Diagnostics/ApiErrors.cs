using System.Text.Json;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Diagnostics;

/// <summary>The one place protocol error codes map to HTTP statuses and response bodies.</summary>
internal static class ApiErrors
{
    public static int StatusFor(string code) => code switch
    {
        ErrorCodes.Unauthorized or ErrorCodes.AuthTimeout or ErrorCodes.SessionExpired or ErrorCodes.Revoked
            or ErrorCodes.PairingFailed => StatusCodes.Status401Unauthorized,
        ErrorCodes.Forbidden or ErrorCodes.PairingPending or ErrorCodes.PairingDenied or ErrorCodes.PairingClosed
            or ErrorCodes.OriginNotAllowed or ErrorCodes.AddressNotAllowed => StatusCodes.Status403Forbidden,
        ErrorCodes.NotFound => StatusCodes.Status404NotFound,
        ErrorCodes.MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        ErrorCodes.PreconditionFailed => StatusCodes.Status412PreconditionFailed,
        ErrorCodes.RangeNotSatisfiable => StatusCodes.Status416RangeNotSatisfiable,
        ErrorCodes.AlreadyExists or ErrorCodes.Conflict or ErrorCodes.DuplicateRequest or ErrorCodes.Cancelled => StatusCodes.Status409Conflict,
        ErrorCodes.UnsupportedMedia => StatusCodes.Status415UnsupportedMediaType,
        ErrorCodes.MediaRejected => StatusCodes.Status422UnprocessableEntity,
        ErrorCodes.ProcessingFailed => StatusCodes.Status500InternalServerError,
        ErrorCodes.TooLarge => StatusCodes.Status413PayloadTooLarge,
        ErrorCodes.RateLimited or ErrorCodes.TooManyConnections => StatusCodes.Status429TooManyRequests,
        ErrorCodes.QuotaExceeded => StatusCodes.Status507InsufficientStorage,
        ErrorCodes.NotAvailable or ErrorCodes.LlmNotConfigured or ErrorCodes.LlmUnavailable or ErrorCodes.Interrupted
            => StatusCodes.Status503ServiceUnavailable,
        ErrorCodes.LlmAuthFailed or ErrorCodes.LlmStreamError or ErrorCodes.LlmTruncated or ErrorCodes.ToolFailed => StatusCodes.Status502BadGateway,
        ErrorCodes.LlmNoCredits => StatusCodes.Status402PaymentRequired,
        ErrorCodes.LlmRateLimited => StatusCodes.Status429TooManyRequests,
        ErrorCodes.LlmTimeout => StatusCodes.Status504GatewayTimeout,
        ErrorCodes.LlmRejected => StatusCodes.Status422UnprocessableEntity,
        ErrorCodes.ToolDenied => StatusCodes.Status403Forbidden,
        ErrorCodes.InternalError => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status400BadRequest,
    };

    public static Task WriteAsync(HttpContext context, string code, string message, int? retryAfter = null)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.StatusCode = StatusFor(code);
        if (retryAfter is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new ErrorResponse { Error = new AtlasError { Code = code, Message = message, RetryAfter = retryAfter } };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, AtlasJsonContext.Default.ErrorResponse, context.RequestAborted);
    }

    public static IResult Result(string code, string message) =>
        Results.Json(new ErrorResponse { Error = new AtlasError { Code = code, Message = message } },
            AtlasJsonContext.Default.ErrorResponse, statusCode: StatusFor(code));
}
