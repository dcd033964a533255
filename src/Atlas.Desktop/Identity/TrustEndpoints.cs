using System.Globalization;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;

namespace Atlas.Desktop.Identity;

/// <summary>GET /admin/api/tls and the control socket's /control/tls: the mode, the CA and the serving certificate.</summary>
internal sealed record TlsView(string Mode, string Pin, string DisplayFingerprint, string CertificateSha256, DateTimeOffset CertificateNotAfter,
    string? AuthoritySubject, DateTimeOffset? AuthorityNotAfter, IReadOnlyList<string>? PermittedNames, IReadOnlyList<string>? PermittedAddresses,
    int RevokedDevices = 0);

/// <summary>POST /admin/api/tls: <c>{"mode":"local-ca"}</c> or <c>{"mode":"self-signed"}</c>.</summary>
internal sealed record TlsChange(string? Mode);

/// <summary>The public trust endpoints (<c>/ca.crt</c>, <c>/ca.mobileconfig</c>) and the desktop user's trust operations
/// (mode, CA rotation), mapped on the admin API and the control socket like the other desktop operations.</summary>
internal static class TrustEndpoints
{
    public const string CertificateContentType = "application/x-x509-ca-cert";
    public const string ProfileContentType = "application/x-apple-aspen-config";

    public static void MapTrustEndpoints(this IEndpointRouteBuilder app)
    {
        // Public like any certificate: a phone fetches it before it has paired. Only the CA's public part is served.
        app.MapGet("/ca.crt", (DesktopIdentity identity, DesktopInfo desktop, HttpContext context) =>
        {
            if (identity.Authority is not { } authority)
            {
                return NoAuthority();
            }

            context.Response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(desktop.Name)}.crt\"";
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text(authority.ExportCertificatePem() + "\n", CertificateContentType, Encoding.ASCII);
        }).AllowAnonymous();
        app.MapGet("/ca.mobileconfig", (DesktopIdentity identity, DesktopInfo desktop, HttpContext context) =>
        {
            if (identity.Authority is not { } authority)
            {
                return NoAuthority();
            }

            context.Response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(desktop.Name)}.mobileconfig\"";
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text(MobileConfig(authority, desktop.Name), ProfileContentType, Encoding.UTF8);
        }).AllowAnonymous();
    }

    /// <summary>The trust operations: <c>GET /tls</c>, <c>POST /tls</c> (choose the mode) and <c>POST /tls/rotate</c>.</summary>
    public static void MapTrustOperations(this RouteGroupBuilder group)
    {
        group.MapGet("/tls", (DesktopIdentity identity) => Results.Json(View(identity), DesktopJsonContext.Default.TlsView));
        group.MapPost("/tls", async (HttpContext context, TrustService trust) =>
        {
            var change = await JsonBodies.ReadAsync(context.Request, DesktopJsonContext.Default.TlsChange, context.RequestAborted).ConfigureAwait(false);
            if (change?.Mode is not (DesktopIdentity.SelfSignedMode or DesktopIdentity.LocalCaMode))
            {
                throw new AtlasException(ErrorCodes.BadRequest, "Send {\"mode\":\"local-ca\"} (trusted mode) or {\"mode\":\"self-signed\"} (quick mode).");
            }

            return Results.Json(await trust.SetModeAsync(change.Mode, context.RequestAborted).ConfigureAwait(false), DesktopJsonContext.Default.TlsView);
        });
        group.MapPost("/tls/rotate", async (TrustService trust, CancellationToken cancellationToken) =>
            Results.Json(await trust.RotateAsync(cancellationToken).ConfigureAwait(false), DesktopJsonContext.Default.TlsView));
    }

    public static TlsView View(DesktopIdentity identity, int revoked = 0)
    {
        var authority = identity.Authority;
        var (names, addresses) = authority is null ? ([], []) : LocalCertificateAuthority.ReadNameConstraints(authority);
        return new TlsView(identity.Mode, identity.Pin, identity.DisplayFingerprint, identity.CertificateSha256,
            new DateTimeOffset(identity.Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero), authority?.Subject,
            authority is null ? null : new DateTimeOffset(authority.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            authority is null ? null : names, authority is null ? null : [.. addresses.Select(a => a.ToString())], revoked);
    }

    /// <summary>An iOS configuration profile with one root-certificate payload. Installing it is step one; iOS then also
    /// needs Settings → General → About → Certificate Trust Settings → enable full trust.</summary>
    public static string MobileConfig(System.Security.Cryptography.X509Certificates.X509Certificate2 authority, string desktopName)
    {
        // Stable identifiers per CA: installing the profile again replaces the old one instead of adding a second.
        var hash = SHA256.HashData(authority.RawData);
        var profileId = new Guid(hash.AsSpan(0, 16)).ToString().ToUpperInvariant();
        var payloadId = new Guid(hash.AsSpan(16, 16)).ToString().ToUpperInvariant();
        var name = SecurityElement.Escape($"Atlas: {desktopName}");
        var suffix = Convert.ToHexString(hash.AsSpan(0, 6)).ToLowerInvariant();
        return string.Create(CultureInfo.InvariantCulture, $"""
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
              <key>PayloadContent</key>
              <array>
                <dict>
                  <key>PayloadCertificateFileName</key>
                  <string>atlas-ca.cer</string>
                  <key>PayloadContent</key>
                  <data>{Convert.ToBase64String(authority.RawData)}</data>
                  <key>PayloadDescription</key>
                  <string>The certificate authority of your Atlas desktop. It can vouch only for that desktop's own names and addresses.</string>
                  <key>PayloadDisplayName</key>
                  <string>{SecurityElement.Escape(authority.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false))}</string>
                  <key>PayloadIdentifier</key>
                  <string>app.atlas.ca.{suffix}.root</string>
                  <key>PayloadType</key>
                  <string>com.apple.security.root</string>
                  <key>PayloadUUID</key>
                  <string>{payloadId}</string>
                  <key>PayloadVersion</key>
                  <integer>1</integer>
                </dict>
              </array>
              <key>PayloadDescription</key>
              <string>Lets this phone trust your Atlas desktop, so the Atlas web app can be installed and open without a network.</string>
              <key>PayloadDisplayName</key>
              <string>{name}</string>
              <key>PayloadIdentifier</key>
              <string>app.atlas.ca.{suffix}</string>
              <key>PayloadRemovalDisallowed</key>
              <false/>
              <key>PayloadType</key>
              <string>Configuration</string>
              <key>PayloadUUID</key>
              <string>{profileId}</string>
              <key>PayloadVersion</key>
              <integer>1</integer>
            </dict>
            </plist>

            """);
    }

    private static IResult NoAuthority() => ApiErrors.Result(ErrorCodes.NotFound,
        "This desktop is in quick mode (a self-signed certificate): there is no certificate authority to install. The desktop user "
        + "turns on trusted mode in the admin UI or with 'atlas tls mode local-ca'.");

    private static string FileName(string desktopName)
    {
        var safe = new string([.. desktopName.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-')]).Trim('-');
        return "atlas-" + (safe.Length == 0 ? "desktop" : safe.Length > 32 ? safe[..32] : safe) + "-ca";
    }
}

/// <summary>Changes the trust setup while the desktop runs. Every change of the pin (mode on, mode off, CA rotation)
/// revokes every device: their pin no longer matches, so they are told (the revoked close on live sockets, and the
/// <c>revoked</c> error afterwards) to pair again with the new QR code.</summary>
internal sealed class TrustService(DesktopIdentity identity, DeviceService devices, IAuditLog audit, ILogger<TrustService> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<TlsView> SetModeAsync(string mode, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = identity.Mode;
            bool changed;
            try
            {
                changed = identity.SetMode(mode);
            }
            catch (InvalidOperationException e)
            {
                throw new AtlasException(ErrorCodes.Conflict, e.Message);
            }

            if (!changed)
            {
                return TrustEndpoints.View(identity);
            }

            var revoked = await RevokeAllAsync(cancellationToken).ConfigureAwait(false);
            await audit.WriteAsync("tls_mode_changed", null, null, $"{previous} -> {mode}; {revoked} device(s) must pair again", cancellationToken).ConfigureAwait(false);
            Log.TlsModeChanged(logger, previous, mode, revoked);
            return TrustEndpoints.View(identity, revoked);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<TlsView> RotateAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                identity.RotateAuthority();
            }
            catch (InvalidOperationException e)
            {
                throw new AtlasException(ErrorCodes.Conflict, e.Message + " Turn trusted mode on first ('atlas tls mode local-ca').");
            }

            var revoked = await RevokeAllAsync(cancellationToken).ConfigureAwait(false);
            await audit.WriteAsync("tls_ca_rotated", null, null, $"{revoked} device(s) must pair again", cancellationToken).ConfigureAwait(false);
            Log.TlsAuthorityRotated(logger, identity.DisplayFingerprint, revoked);
            return TrustEndpoints.View(identity, revoked);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<int> RevokeAllAsync(CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var device in await devices.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await devices.RevokeAsync(device.Id, deleteFiles: false, cancellationToken).ConfigureAwait(false);
                count++;
            }
            catch (AtlasException e) when (e.Code == ErrorCodes.NotFound)
            {
                // Revoked or denied meanwhile.
            }
        }

        return count;
    }

    public void Dispose() => _gate.Dispose();
}
