using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Atlas.Client.Connection;
using Atlas.Client.Credentials;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;
using Shared.Timing;

namespace Atlas.Client;

/// <summary>A paired device's view of one Atlas desktop: sessions, REST calls and WebSocket connections, all pinned to
/// the desktop's certificate key.</summary>
public sealed class AtlasClient : IDisposable
{
    private readonly AtlasClientOptions _options;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _sessionLock = new(1, 1);
    private SessionResponse? _session;

    /// <summary>Creates a client for a paired device.</summary>
    /// <param name="credentials">The device's stored credentials.</param>
    /// <param name="options">Options, or defaults.</param>
    public AtlasClient(DeviceCredentials credentials, AtlasClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        Credentials = credentials;
        _options = options ?? new AtlasClientOptions();
        _http = CreatePinnedHttpClient(credentials.BaseUri, credentials.Fingerprint, _options.RequestTimeout);
    }

    /// <summary>The device's credentials.</summary>
    public DeviceCredentials Credentials { get; }

    /// <summary>Pairs with the desktop a QR link points at: checks the link, connects pinned to its fingerprint (a
    /// different key is refused before anything is sent), redeems the ticket and, when the desktop asks its user to
    /// approve, waits for the decision.</summary>
    /// <param name="link">The parsed pairing link.</param>
    /// <param name="deviceName">The name the desktop shows for this device.</param>
    /// <param name="platform">The platform label, for example <c>dotnet</c>.</param>
    /// <param name="onPending">Called with the check code while the desktop user decides; show it to the user.</param>
    /// <param name="options">Options, or defaults.</param>
    /// <param name="cancellationToken">Cancels pairing.</param>
    /// <returns>The credentials to store.</returns>
    /// <exception cref="AtlasException">The desktop refused (expired ticket, denied, rate limited).</exception>
    public static async Task<DeviceCredentials> PairAsync(
        PairingLink link,
        string deviceName,
        string platform,
        Action<string>? onPending = null,
        AtlasClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(link);
        options ??= new AtlasClientOptions();
        if (link.ExpiresAt <= options.TimeProvider.GetUtcNow())
        {
            throw new AtlasException(ErrorCodes.PairingFailed, "The pairing link has expired; show a new QR code on the desktop.");
        }

        using var http = CreatePinnedHttpClient(link.BaseUri, link.Fingerprint, options.RequestTimeout);
        var nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var request = new AuthRequest
        {
            GrantType = AtlasProtocol.GrantPairingTicket,
            Ticket = link.Ticket,
            DeviceName = deviceName,
            Platform = platform,
            ClientNonce = nonce,
        };
        using var response = await http.PostAsJsonAsync("auth", request, AtlasJsonContext.Default.AuthRequest, cancellationToken)
            .ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        var pairing = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.PairingResponse, cancellationToken)
            .ConfigureAwait(false) ?? throw new AtlasException(ErrorCodes.BadRequest, "The desktop sent an empty pairing answer.");

        var expected = CheckCode.Compute(link.Fingerprint, link.Ticket, nonce);
        if (pairing.CheckCode != expected)
        {
            throw new AtlasException(ErrorCodes.PairingFailed,
                "The desktop's check code does not match the one computed here; do not approve this pairing.");
        }

        var credentials = new DeviceCredentials(link.BaseUri, link.Fingerprint, pairing.DeviceId, pairing.DeviceCredential,
            pairing.DesktopName);
        if (pairing.Status == "pending")
        {
            onPending?.Invoke(pairing.CheckCode);
            using var client = new AtlasClient(credentials, options);
            await client.WaitForApprovalAsync(cancellationToken).ConfigureAwait(false);
        }

        return credentials;
    }

    /// <summary>Waits until the desktop user approves this device (or throws when they deny it).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes once approved.</returns>
    public async Task WaitForApprovalAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                await GetSessionCoreAsync(25, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (AtlasException e) when (e.Code == ErrorCodes.PairingPending)
            {
                // The long poll ended without a decision: ask again.
            }
        }
    }

    /// <summary>Returns a valid session, renewing it with the device credential when it is missing or about to expire.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The session.</returns>
    public Task<SessionResponse> GetSessionAsync(CancellationToken cancellationToken = default) =>
        GetSessionCoreAsync(null, cancellationToken);

    private async Task<SessionResponse> GetSessionCoreAsync(int? waitSeconds, CancellationToken cancellationToken)
    {
        await _sessionLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _options.TimeProvider.GetUtcNow();
            // Read once: InvalidateSession may clear the field at any moment without the lock.
            if (Volatile.Read(ref _session) is { } cached && cached.ExpiresAt - now > _options.SessionRenewBefore)
            {
                return cached;
            }

            var request = new AuthRequest
            {
                GrantType = AtlasProtocol.GrantDeviceCredential,
                DeviceCredential = Credentials.Credential,
                WaitSeconds = waitSeconds,
            };
            using var response = await _http.PostAsJsonAsync("auth", request, AtlasJsonContext.Default.AuthRequest, cancellationToken)
                .ConfigureAwait(false);
            try
            {
                await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
            }
            catch (AtlasException e) when (e.Code == ErrorCodes.Unauthorized)
            {
                // The desktop no longer knows this device's credential: it was revoked (or the desktop was reset).
                throw new AtlasException(ErrorCodes.Revoked, e.Message, e);
            }

            var session = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.SessionResponse, cancellationToken)
                .ConfigureAwait(false) ?? throw new AtlasException(ErrorCodes.BadRequest, "The desktop sent an empty session answer.");
            Volatile.Write(ref _session, session);
            return session;
        }
        finally
        {
            _sessionLock.Release();
        }
    }

    /// <summary>Forgets the cached session so the next call obtains a new one.</summary>
    /// <remarks>Never waits: the session lock is held across a renewal's network call, and a caller that learned the
    /// session is gone (a socket closed with 4001) must not wait for it. A renewal running meanwhile brings a new
    /// session, which is kept.</remarks>
    public void InvalidateSession() => Volatile.Write(ref _session, null);

    /// <summary>Sends an authenticated REST request (the session token goes in the <c>Authorization</c> header).</summary>
    /// <param name="request">The request; its URI is relative to the desktop's base address.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response; error statuses are returned, not thrown.</returns>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var session = await GetSessionAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session.SessionToken);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The models the desktop's LLM endpoint offers (<c>GET /models</c>), the default first.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The models.</returns>
    /// <exception cref="AtlasException">The desktop refused (<c>llm_not_configured</c>, <c>forbidden</c>…).</exception>
    public async Task<ModelList> GetModelsAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "models");
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ModelList, cancellationToken).ConfigureAwait(false)
            ?? new ModelList();
    }

    /// <summary>Opens a WebSocket connection that authenticates, answers heartbeats and reconnects with jittered backoff.</summary>
    /// <param name="cancellationToken">Cancels the first connection attempt.</param>
    /// <returns>The connected, authenticated connection.</returns>
    public async Task<AtlasConnection> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var connection = new AtlasConnection(this, _options);
        try
        {
            await connection.StartAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Connects like <see cref="ConnectAsync"/>, but answers <see langword="null"/> when the desktop is unreachable
    /// right now (<see cref="AtlasReachability.IsUnreachable"/>) instead of throwing. Starts with a fresh session.</summary>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The connected connection, or <see langword="null"/> while the desktop cannot be reached.</returns>
    /// <exception cref="AtlasException">The desktop refused (revoked, forbidden…).</exception>
    /// <exception cref="HttpRequestException">The desktop's certificate does not match the pin
    /// (<see cref="AtlasReachability.IsCertificateMismatch"/>).</exception>
    public async Task<AtlasConnection?> TryConnectAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            InvalidateSession();
            return await ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (AtlasReachability.IsUnreachable(e) && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Connect when reachable: waits for the desktop and connects once it can be reached. Before each attempt it
    /// waits an exponentially growing delay with full jitter (<see cref="AtlasClientOptions.ReconnectBaseDelay"/> doubled
    /// per attempt, at most <see cref="AtlasClientOptions.ReconnectMaxDelay"/>), so a phone that was offline does not
    /// hammer the desktop when many come back at once. Call it after a <see cref="TryConnectAsync"/> that answered
    /// <see langword="null"/>, typically in the background while the app works offline.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The connected connection.</returns>
    /// <exception cref="AtlasException">The desktop refused (revoked, forbidden…): waiting longer would not help.</exception>
    /// <exception cref="HttpRequestException">The desktop's certificate does not match the pin.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<AtlasConnection> ConnectWhenReachableAsync(CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var delay = Backoff.Delay(attempt, _options.ReconnectBaseDelay, _options.ReconnectMaxDelay, BackoffJitter.Full);
            await Task.Delay(delay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            if (await TryConnectAsync(cancellationToken).ConfigureAwait(false) is { } connection)
            {
                return connection;
            }
        }
    }

    internal ClientWebSocket CreateWebSocket()
    {
        var socket = new ClientWebSocket();
        var pin = Credentials.Fingerprint;
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, chain, _) => SpkiPin.Matches(certificate, chain, pin);
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
        socket.Options.KeepAliveTimeout = TimeSpan.FromSeconds(20);
        socket.Options.SetBuffer(4096, 4096);
        return socket;
    }

    internal Uri WebSocketUri => new UriBuilder(Credentials.BaseUri) { Scheme = "wss", Path = AtlasProtocol.WebSocketPath }.Uri;

    /// <summary>Creates an <see cref="HttpClient"/> that accepts only a server whose key has <paramref name="pin"/>,
    /// whatever its chain (the pin beats any CA).</summary>
    /// <param name="baseUri">The desktop's base address.</param>
    /// <param name="pin">The SPKI pin.</param>
    /// <param name="timeout">The request timeout.</param>
    /// <returns>The client.</returns>
    public static HttpClient CreatePinnedHttpClient(Uri baseUri, string pin, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, _) => SpkiPin.Matches(certificate, chain, pin),
            },
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
        };
        return new HttpClient(handler) { BaseAddress = baseUri, Timeout = timeout };
    }

    internal static async Task ThrowIfErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        ErrorResponse? body = null;
        try
        {
            body = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException)
        {
            // Not a protocol error body: fall through to the status code.
        }

        throw new AtlasException(
            body?.Error.Code is { Length: > 0 } code ? code : ErrorCodes.InternalError,
            body?.Error.Message is { Length: > 0 } message ? message : $"The desktop answered HTTP {(int)response.StatusCode}.");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _http.Dispose();
        _sessionLock.Dispose();
    }
}
