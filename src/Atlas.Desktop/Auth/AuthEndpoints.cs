using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Pairing;

namespace Atlas.Desktop.Auth;

/// <summary><c>POST /auth</c>: pairing ticket → device credential; device credential → session token.</summary>
internal static class AuthEndpoints
{
    public const string RateLimitPolicy = "auth";
    private const int MaxBody = 16 * 1024;

    public static void MapAuth(this IEndpointRouteBuilder app)
    {
        app.MapPost("/auth", HandleAsync)
            .AllowAnonymous()
            .RequireRateLimiting(RateLimitPolicy)
            .WithAtlasErrors();
    }

    private static async Task<IResult> HandleAsync(HttpContext context, PairingService pairing, SessionService sessions)
    {
        var request = await ReadAsync(context).ConfigureAwait(false);
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        switch (request.GrantType)
        {
            case AtlasProtocol.GrantPairingTicket:
                var paired = await pairing.RedeemAsync(request, address, context.RequestAborted).ConfigureAwait(false);
                return Results.Json(paired, AtlasJsonContext.Default.PairingResponse,
                    statusCode: paired.Status == "pending" ? StatusCodes.Status202Accepted : StatusCodes.Status200OK);
            case AtlasProtocol.GrantDeviceCredential:
                var session = await sessions.CreateAsync(request.DeviceCredential, request.WaitSeconds, address, context.RequestAborted)
                    .ConfigureAwait(false);
                return Results.Json(session, AtlasJsonContext.Default.SessionResponse);
            default:
                throw new AtlasException(ErrorCodes.BadRequest,
                    $"grantType must be '{AtlasProtocol.GrantPairingTicket}' or '{AtlasProtocol.GrantDeviceCredential}'.");
        }
    }

    private static async Task<AuthRequest> ReadAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBody)
        {
            throw new AtlasException(ErrorCodes.TooLarge, $"The auth request is limited to {MaxBody} bytes.");
        }

        if (!context.Request.HasJsonContentType())
        {
            throw new AtlasException(ErrorCodes.BadRequest, "Send the auth request as application/json.");
        }

        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxBody;
        }

        using var limited = new MemoryStream();
        await context.Request.Body.CopyToAsync(limited, context.RequestAborted).ConfigureAwait(false);
        if (limited.Length > MaxBody)
        {
            throw new AtlasException(ErrorCodes.TooLarge, $"The auth request is limited to {MaxBody} bytes.");
        }

        try
        {
            return JsonSerializer.Deserialize(limited.GetBuffer().AsSpan(0, (int)limited.Length), AtlasJsonContext.Default.AuthRequest)
                ?? throw new AtlasException(ErrorCodes.BadRequest, "The auth request is empty.");
        }
        catch (JsonException)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "The auth request is not valid JSON: {\"grantType\":…}.");
        }
    }
}
