using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.RateLimiting;
using Atlas.Client.Protocol;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Chat;
using Atlas.Desktop.Control;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Files;
using Atlas.Desktop.Identity;
using Atlas.Desktop.Mcp;
using Atlas.Desktop.Media;
using Atlas.Desktop.Network;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Realtime;
using Atlas.Desktop.Status;
using Atlas.Desktop.Storage;
using Atlas.Desktop.WebClient;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Hosting;

/// <summary>Builds the desktop host: configuration, data directory, identity, interfaces, Kestrel and every feature.</summary>
internal static class AtlasApp
{
    /// <summary>Builds the app. <paramref name="overrides"/> are configuration keys that win over every other source
    /// (the CLI flags); <paramref name="configure"/> lets tests replace services (for example the time provider).</summary>
    public static WebApplication Build(string[] args, IDictionary<string, string?>? overrides = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var options = AtlasConfiguration.Read(builder.Configuration);
        var validation = new AtlasOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(AtlasOptions.Section, typeof(AtlasOptions), validation.Failures);
        }

        var dataDirectory = new DataDirectory(DataDirectory.Resolve(options.DataDir));
        dataDirectory.Create();
        var database = new AtlasDatabase(dataDirectory.DatabasePath);
        database.Migrate();

        var lan = SelectInterfaces(options.Network);
        var hostNames = new List<string> { "localhost" };
        var machine = Environment.MachineName.ToLowerInvariant();
        if (Uri.CheckHostName(machine) == UriHostNameType.Dns)
        {
            hostNames.Add(machine);
            hostNames.Add(machine + ".local");
        }

        hostNames.AddRange(options.Network.AllowedHosts);
        var time = TimeProvider.System;
        // The mode: Atlas:Tls:Mode / --tls-mode when given, else the choice made in the admin UI or with 'atlas tls mode'.
        var tlsMode = builder.Configuration[AtlasOptions.Section + ":Tls:Mode"] is { Length: > 0 }
            ? options.Tls.Mode
            : DesktopIdentity.StoredMode(dataDirectory.IdentityDirectory) is DesktopIdentity.LocalCaMode ? DesktopIdentity.LocalCaMode : DesktopIdentity.SelfSignedMode;
        var identity = DesktopIdentity.Load(dataDirectory.IdentityDirectory, options.Certificate, tlsMode, options.Name,
            [IPAddress.Loopback, IPAddress.IPv6Loopback, .. lan.Select(l => l.Address)], hostNames, options.Tls.CertificateLifetime, time);
        if (identity.Mode == DesktopIdentity.UserCertificateMode)
        {
            hostNames.AddRange(identity.Certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false) is { Length: > 0 } dns ? [dns] : []);
        }

        var desktop = new DesktopInfo(options.Name, identity, lan, dataDirectory.Root);
        var policy = new NetworkPolicy([.. hostNames, "127.0.0.1", "[::1]", .. lan.Select(l => l.Address.ToString())], options.Network.AllowCgnat);
        var port = options.Port;
        if (port == 0 && lan.Count > 0)
        {
            port = FreePort();
        }

        if (port != 0)
        {
            desktop.SetPort(port);
            policy.SetPorts([port]);
        }

        PrepareControlSocket(dataDirectory.ControlSocketPath);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            kestrel.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(240, TimeSpan.FromSeconds(10));
            // Every handshake takes the identity's current certificate: trusted mode renews it, and the admin UI can switch
            // modes or rotate the CA while the desktop runs.
            void Https(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen) => listen.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.TlsHandshakeCallbackOptions
            {
                OnConnection = _ => ValueTask.FromResult(new System.Net.Security.SslServerAuthenticationOptions
                {
                    ServerCertificateContext = identity.CurrentContext(),
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                }),
            });
            kestrel.Listen(IPAddress.Loopback, port, Https);
            foreach (var address in lan)
            {
                kestrel.Listen(address.Address, port, Https);
            }

            kestrel.ListenUnixSocket(dataDirectory.ControlSocketPath);
            if (options.Telemetry.Prometheus)
            {
                // Plain HTTP on loopback only, and a port of its own: the phone-facing port never serves /metrics.
                kestrel.Listen(IPAddress.Loopback, options.Telemetry.PrometheusPort);
            }
        });

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        builder.Logging.AddFilter("Atlas.Desktop.Auth.SessionAuthenticationHandler", LogLevel.Warning);
        var services = builder.Services;
        services.AddSingleton(identity);
        services.AddSingleton(desktop);
        services.AddSingleton(policy);
        services.AddSingleton(dataDirectory);
        services.AddSingleton(database);
        services.TryAddSingleton(new AtlasTime(time));
        services.AddSingleton<IValidateOptions<AtlasOptions>, AtlasOptionsValidator>();
        services.AddOptions<AtlasOptions>().Configure(o => AtlasConfiguration.Bind(builder.Configuration, o)).ValidateOnStart();
        services.AddSingleton<RouteMethods>();
        services.AddSingleton<SqliteStores>();
        services.AddSingleton<IDeviceStore>(sp => sp.GetRequiredService<SqliteStores>());
        services.AddSingleton<ITicketStore>(sp => sp.GetRequiredService<SqliteStores>());
        services.AddSingleton<ISessionStore>(sp => sp.GetRequiredService<SqliteStores>());
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<SqliteStores>());
        services.AddSingleton<IUploadStore>(sp => sp.GetRequiredService<SqliteStores>());
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<DeviceLifetimes>();
        services.AddSingleton<DeviceFrameBudget>();
        services.AddSingleton<StatusService>();
        services.AddSingleton<DeviceService>();
        services.AddSingleton<SessionService>();
        services.AddSingleton<AuthRateLimiter>();
        services.AddSingleton<UnauthenticatedSocketGate>();
        services.AddSingleton<PairingService>();
        services.AddSingleton<Admin.AdminEvents>();
        services.AddSingleton<Admin.AdminSignIns>();
        services.AddSingleton<LiveMetrics>();
        services.AddSingleton<ApprovalAlerts>();
        services.AddSingleton<TrustService>();
        services.AddSingleton<AdminSessions>();
        services.AddSingleton<DeviceFileSystem>();
        services.AddSingleton<UploadService>();
        services.AddSingleton<IdempotencyCache>();
        services.AddSingleton<MessageRouter>();
        services.AddSingleton<WebSocketEndpoint>();
        services.AddSingleton<HeartbeatService>();
        services.AddHostedService(sp => sp.GetRequiredService<HeartbeatService>());
        services.AddHostedService<CleanupService>();
        services.AddAtlasMedia(media =>
        {
            AtlasConfiguration.BindMedia(builder.Configuration, media);
            media.CacheDirectory ??= dataDirectory.MediaCacheDirectory;
            media.WorkDirectory ??= dataDirectory.MediaWorkDirectory;
        });
        services.AddSingleton<MediaJobTracker>();
        services.AddAtlasChat();
        if (options.Llm.IsConfigured)
        {
            // The pipeline's describe task (and context cards with a description) use the desktop's LLM endpoint.
            services.AddSingleton<Microsoft.Extensions.AI.IChatClient, VisionChatClient>();
        }

        services.TryAddSingleton<IMediaService, PipelineMediaService>();
        services.AddSingleton<IStatusContributor, LlmStatusContributor>();
        services.AddMmcpHub(hub =>
        {
            hub.ClientName = "atlas";
            hub.CacheDirectory = Path.Combine(dataDirectory.Root, "hub-cache");
            hub.Registry.ImportClientConfigs = options.Hub.ImportClientConfigs;
            if (options.Hub.RegistryDirectories.Count > 0)
            {
                hub.Registry.RegistryDirectories = [.. options.Hub.RegistryDirectories];
            }
        });
        services.AddSingleton(sp => new Mmcp.Client.Consent.ConsentStore(
            options.Hub.ConsentFile ?? Mmcp.Client.Consent.ConsentStore.DefaultPath(), options.Hub.ConsentPolicy, sp.GetRequiredService<AtlasTime>().Provider));
        services.AddSingleton<Chat.Tools.IChatToolProvider, Chat.Tools.HubChatToolProvider>();
        services.AddSingleton<IStatusContributor, HubStatusContributor>();
        services.AddDeviceMcp();
        services.AddSingleton<IStatusContributor, MediaJobsStatusContributor>();

        services.AddAuthentication(SessionAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, SessionAuthenticationHandler>(SessionAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(SessionAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build());
        services.AddRateLimiter(limiter => ConfigureRateLimits(limiter, options.RateLimits));
        services.AddAtlasBindingErrors();

        global::Shared.Telemetry.OpenTelemetrySetup.AddOpenTelemetry(services, builder.Configuration, "atlas", options.Telemetry.Prometheus, aspNetCore: true);
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        configure?.Invoke(builder);
        var app = builder.Build();
        identity.UseTime(app.Services.GetRequiredService<AtlasTime>().Provider);
        app.Services.GetRequiredService<LiveMetrics>(); // counts from the start, not from the first look at the admin UI
        if (options.Telemetry.Prometheus)
        {
            var metricsPort = options.Telemetry.PrometheusPort;
            global::Shared.Telemetry.OpenTelemetrySetup.UsePrometheusOnLoopback(app, metricsPort);
            app.Use((context, next) =>
            {
                // The metrics listener serves nothing else.
                if (context.Connection.LocalPort == metricsPort && !ControlChannel.IsControlConnection(context))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        app.UseMiddleware<NetworkGuardMiddleware>();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = options.WebSocket.HeartbeatInterval });
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseAtlasBindingErrors();

        app.MapGet("/health", () => Results.Json(new HealthStatus("ok", AtlasProtocol.Version, typeof(AtlasApp).Assembly.GetName().Version?.ToString(3) ?? "0"),
            DesktopJsonContext.Default.HealthStatus)).AllowAnonymous();
        app.MapGet("/pair", () => StaticAssets.Serve("pair.html")).AllowAnonymous();
        app.MapGet("/pair.js", () => StaticAssets.Serve("pair.js")).AllowAnonymous();
        app.MapGet("/atlas.css", () => StaticAssets.Serve("atlas.css")).AllowAnonymous();
        app.MapGet("/icon.svg", () => StaticAssets.Serve("icon.svg")).AllowAnonymous();
        // The certificate's SHA-256 for the pairing page (browsers show it, never the SPKI pin); public like the certificate.
        app.MapGet("/pair/certificate", (DesktopInfo desktop) => Results.Json(new PairCertificate(desktop.CertificateSha256, desktop.TlsMode),
            DesktopJsonContext.Default.PairCertificate)).AllowAnonymous();
        app.MapTrustEndpoints();
        app.MapWebClient();
        app.MapAuth();
        app.Map(AtlasProtocol.WebSocketPath, (HttpContext context, WebSocketEndpoint endpoint) => endpoint.HandleAsync(context)).AllowAnonymous();
        app.MapFiles();
        app.MapChatAndMedia();
        app.MapDeviceMcp();
        app.MapAdmin();
        app.MapControl();
        app.MapFallback(RouteMethods.NoEndpoint).AllowAnonymous();

        app.Lifetime.ApplicationStopping.Register(() =>
        {
            // Running answers end now as interrupted, whatever the transport: their readers (SSE streams included) get the
            // final event and finish, so the server drains instead of waiting out its timeout; the generation manager's
            // stop then waits until what they received is saved.
            app.Services.GetRequiredService<Chat.Generations.GenerationManager>().InterruptAll();

            // Tell every phone the desktop is going away (1001) instead of letting sockets hang until the host gives up.
            foreach (var connection in app.Services.GetRequiredService<ConnectionRegistry>().Snapshot())
            {
                connection.Close((int)System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable, "desktop shutting down");
            }
        });
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (desktop.Port == 0)
            {
                var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                    .Select(a => BindingAddress.Parse(a)).First(a => !a.IsUnixPipe).Port;
                desktop.SetPort(bound);
                policy.SetPorts([bound]);
            }

            ControlChannel.Restrict(dataDirectory.ControlSocketPath, app.Logger);
            app.Services.GetRequiredService<DeviceFileSystem>().RemoveStaleTemporaries();
        });
        return app;
    }

    /// <summary>The LAN addresses to listen on. Configured interfaces are checked even with <c>Lan</c> off, so a typo is a
    /// startup error rather than a silent fallback.</summary>
    private static IReadOnlyList<ListenAddress> SelectInterfaces(NetworkOptions network)
    {
        if (!network.Lan && network.Interfaces.Count == 0)
        {
            return [];
        }

        try
        {
            var selected = InterfaceSelector.Select(network.Interfaces, network.AllowCgnat);
            return network.Lan ? selected : [];
        }
        catch (InvalidOperationException e)
        {
            throw new OptionsValidationException(AtlasOptions.Section, typeof(AtlasOptions), [e.Message]);
        }
    }

    private static void ConfigureRateLimits(RateLimiterOptions limiter, RateLimitOptions limits)
    {
        limiter.OnRejected = async (context, cancellationToken) =>
        {
            var http = context.HttpContext;
            var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? (int)Math.Ceiling(after.TotalSeconds) : 60;
            if (http.Request.Path.StartsWithSegments("/auth", StringComparison.Ordinal))
            {
                await http.RequestServices.GetRequiredService<IAuditLog>()
                    .WriteAsync("auth_rate_limited", null, http.Connection.RemoteIpAddress?.ToString(), null, cancellationToken).ConfigureAwait(false);
            }

            await ApiErrors.WriteAsync(http, ErrorCodes.RateLimited, $"Too many requests; try again in {retry} seconds.", retry).ConfigureAwait(false);
        };
        limiter.AddPolicy(FileEndpoints.UploadRateLimitPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
            "upload:" + PartitionKey(context),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.UploadsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            ControlChannel.IsControlConnection(context) || context.WebSockets.IsWebSocketRequest
                ? RateLimitPartition.GetNoLimiter("local")
                : RateLimitPartition.GetFixedWindowLimiter("all:" + PartitionKey(context),
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.RequestsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    private static string PartitionKey(HttpContext context) =>
        context.User.FindFirst(SessionAuthenticationHandler.DeviceIdClaim)?.Value ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Removes a stale socket file, or stops when another instance is using this data directory.</summary>
    private static void PrepareControlSocket(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            File.Delete(path);
            return;
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"atlas is already running with the data directory {Path.GetDirectoryName(path)}. Stop it first, or use another --data-dir."));
    }
}
