using Atlas.Client;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Diagnostics;

/// <summary>Maps <see cref="AtlasException"/> thrown by an endpoint to its error response (in one place); any other fault
/// before the response started is logged and answered <c>internal_error</c>.</summary>
internal static class AtlasExceptionFilter
{
    public static TBuilder WithAtlasErrors<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context).ConfigureAwait(false);
            }
            catch (AtlasException e)
            {
                return ApiErrors.Result(e.Code, e.Message);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return ApiErrors.Result(ErrorCodes.TooLarge, "The request body is larger than allowed.");
            }
            catch (BadHttpRequestException e)
            {
                return ApiErrors.Result(ErrorCodes.BadRequest, e.Message);
            }
            catch (System.Text.Json.JsonException e)
            {
                return ApiErrors.Result(ErrorCodes.BadRequest, e.Path is { Length: > 1 } path
                    ? $"The request body is not valid JSON of the expected shape: the value at {path} is not what this request takes."
                    : "The request body is not valid JSON of the expected shape.");
            }
            catch (Exception e) when (e is not OperationCanceledException && !context.HttpContext.RequestAborted.IsCancellationRequested
                && !context.HttpContext.Response.HasStarted)
            {
                // An unexpected fault is still an Atlas error (JSON, stable code), not an empty 500.
                var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AtlasExceptionFilter));
                Log.EndpointFailed(logger, e, context.HttpContext.Request.Method, context.HttpContext.Request.Path.Value ?? "");
                return ApiErrors.Result(ErrorCodes.InternalError, "The desktop failed to handle this request; nothing was changed.");
            }
        });
}
