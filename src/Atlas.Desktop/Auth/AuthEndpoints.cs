using System.Text.Json;
using System.Threading.RateLimiting;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Storage;

namespace Atlas.Desktop.Auth;

/// <summary><c>POST /auth</c>: pairing ticket → device credential; device credential → session token.</summary>
internal static class AuthEndpoints
{
    private const int MaxBody = 16 * 1024;
    private const string GrantKindCredential = "device_credential";
    private const string GrantKindPairing = "pairing_ticket";

    public static void MapAuth(this IEndpointRouteBuilder app)
    {
        app.MapPost("/auth", HandleAsync)
            .AllowAnonymous()
            .WithAtlasErrors();
    }

    private static async Task<IResult> HandleAsync(HttpContext context, PairingService pairing, SessionService sessions,
        AuthRateLimiter limiter, IAuditLog audit)
    {
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        AuthRequest request;
        try
        {
            request = await ReadAsync(context).ConfigureAwait(false);
        }
        catch (AtlasException)
        {
            // Malformed requests count against the pairing limit, never against credential grants.
            if (await RefusedAsync(context, limiter, audit, credentialGrant: false, address).ConfigureAwait(false))
            {
                return Results.Empty;
            }

            throw;
        }

        if (await RefusedAsync(context, limiter, audit, request.GrantType == AtlasProtocol.GrantDeviceCredential, address).ConfigureAwait(false))
        {
            return Results.Empty;
        }

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

    /// <summary>Takes a permit from the address's partition for this kind of request; when there is none, answers
    /// <c>rate_limited</c> with <c>Retry-After</c> and audits it.</summary>
    private static async Task<bool> RefusedAsync(HttpContext context, AuthRateLimiter limiter, IAuditLog audit, bool credentialGrant,
        string address)
    {
        using var lease = limiter.Acquire(credentialGrant, address);
        if (lease.IsAcquired)
        {
            return false;
        }

        var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 60;
        await audit.WriteAsync("auth_rate_limited", null, address, credentialGrant ? GrantKindCredential : GrantKindPairing,
            context.RequestAborted).ConfigureAwait(false);
        await ApiErrors.WriteAsync(context, ErrorCodes.RateLimited,
            $"Too many {(credentialGrant ? "credential grants" : "pairing attempts")} from this address; try again in {retry} seconds.",
            retry).ConfigureAwait(false);
        return true;
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
            return JsonSerializer.Deserialize(JsonBodies.Of(limited.GetBuffer().AsMemory(0, (int)limited.Length)).Span, AtlasJsonContext.Default.AuthRequest)
                ?? throw new AtlasException(ErrorCodes.BadRequest, "The auth request is empty.");
        }
        catch (JsonException)
        {
            throw new AtlasException(ErrorCodes.BadRequest, "The auth request is not valid JSON: {\"grantType\":…}.");
        }
    }
}
