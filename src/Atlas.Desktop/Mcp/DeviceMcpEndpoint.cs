using System.Collections.Concurrent;
using System.Security.Claims;
using Atlas.Client.Protocol;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Chat.Tools;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;
using Mmcp.Client;
using Mmcp.Client.Consent;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Atlas.Desktop.Mcp;

/// <summary>The desktop's hub as a remote MCP server for paired devices: <c>/mcp</c> (Streamable HTTP, stateless) on the
/// HTTPS port, authenticated like the REST API (<c>Authorization: Bearer st_…</c>, the device's session). A device sees and
/// calls the tools its permissions allow (<c>tools</c> every server, <c>tools:&lt;serverId&gt;</c> one) and the desktop
/// user's consent allows, checked again on every call exactly as chat tool calls are; each call and each refusal is
/// audited under the device. Every request is tied to the device's lifetime (the authentication handler registers it),
/// so revoking the device aborts its requests in flight and refuses the next one with 401.</summary>
internal sealed class DeviceMcpEndpoint
{
    public const string Path = "/mcp";
    private readonly MmcpHub _hub;
    private readonly IDeviceStore _devices;
    private readonly ConsentStore _consent;
    private readonly IAuditLog _audit;
    private readonly IHttpContextAccessor _http;
    private readonly int _maxConcurrent;
    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private readonly Lock _runningLock = new();
    private readonly Dictionary<string, Dictionary<HttpContext, string?>> _running = new(StringComparer.Ordinal); // device → request → server called

    public DeviceMcpEndpoint(MmcpHub hub, IDeviceStore devices, ConsentStore consent, IAuditLog audit, IHttpContextAccessor http, IOptions<AtlasOptions> options,
        Devices.DeviceLifetimes lifetimes)
    {
        lifetimes.PermissionsChanged += CutOff;
        _hub = hub;
        _devices = devices;
        _consent = consent;
        _audit = audit;
        _http = http;
        _maxConcurrent = options.Value.Hub.McpRequestsPerDevice;
    }

    public void Configure(McpServerOptions options)
    {
        options.ServerInfo = new Implementation
        {
            Name = "atlas",
            Title = "Atlas desktop",
            Version = typeof(DeviceMcpEndpoint).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        };
        options.ServerInstructions = "The tools of this Atlas desktop that this paired device may use; names are <server>__<tool>.";
        options.Capabilities = new ServerCapabilities { Tools = new ToolsCapability { ListChanged = false } };
        options.Handlers.ListToolsHandler = ListToolsAsync;
        options.Handlers.CallToolHandler = ResultJson.Faithful<CallToolRequestParams, CallToolResult>(CallToolAsync); // results as their server wrote them
        ResultJson.WriteInResponses(options);
    }

    /// <summary>The HTTP gate in front of the MCP handlers: the device must hold a tools permission at all (403 otherwise,
    /// before any MCP work), and at most <see cref="HubOptions.McpRequestsPerDevice"/> of its <c>/mcp</c> requests run at once
    /// (429 beyond that).</summary>
    public async Task GateAsync(HttpContext context, RequestDelegate next)
    {
        var device = context.Session().Device;
        if (!device.Permissions.Any(p => p == Permissions.Tools || p.StartsWith(Permissions.ToolsServerPrefix, StringComparison.Ordinal)))
        {
            await _audit.WriteAsync("mcp_refused", device.Id, Address(context), "no tools permission", context.RequestAborted).ConfigureAwait(false);
            await ApiErrors.WriteAsync(context, ErrorCodes.Forbidden,
                $"This device does not have the '{Permissions.Tools}' permission (or '{Permissions.ToolsServerPrefix}<server>'); grant it on the desktop.").ConfigureAwait(false);
            return;
        }

        if (_inFlight.AddOrUpdate(device.Id, 1, (_, n) => n + 1) > _maxConcurrent)
        {
            Release(device.Id);
            await ApiErrors.WriteAsync(context, ErrorCodes.RateLimited,
                $"This device already has {_maxConcurrent} MCP requests running; wait for one to finish.", 1).ConfigureAwait(false);
            return;
        }

        lock (_runningLock)
        {
            if (!_running.TryGetValue(device.Id, out var set))
            {
                _running[device.Id] = set = [];
            }

            set[context] = null;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            lock (_runningLock)
            {
                if (_running.TryGetValue(device.Id, out var set) && set.Remove(context) && set.Count == 0)
                {
                    _running.Remove(device.Id);
                }
            }

            Release(device.Id);
        }
    }

    /// <summary>After a permission change: aborts the device's <c>/mcp</c> requests it may no longer make (every one when it
    /// lost all tools permissions, else the calls to servers it lost).</summary>
    private void CutOff(string deviceId, IReadOnlyList<string> permissions)
    {
        lock (_runningLock)
        {
            if (!_running.TryGetValue(deviceId, out var set))
            {
                return;
            }

            var any = permissions.Any(p => p == Permissions.Tools || p.StartsWith(Permissions.ToolsServerPrefix, StringComparison.Ordinal));
            foreach (var (context, server) in set)
            {
                if (!any || (server is not null && !HubChatToolProvider.Allows(permissions, server)))
                {
                    context.Abort();
                }
            }
        }
    }

    private void Release(string deviceId)
    {
        if (_inFlight.AddOrUpdate(deviceId, 0, (_, n) => n - 1) <= 0)
        {
            _inFlight.TryRemove(new KeyValuePair<string, int>(deviceId, 0));
        }
    }

    private async ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        var device = await DeviceAsync(request.User, cancellationToken).ConfigureAwait(false);
        var listing = await _hub.ListToolsAsync(null, cancellationToken).ConfigureAwait(false);
        var tools = new List<Tool>();
        foreach (var tool in listing.Tools)
        {
            if (HubChatToolProvider.Allows(device.Permissions, tool.ServerId)
                && _consent.Evaluate(tool.ServerId, tool.Tool, ConsentStore.ComputeHash(tool.Tool)).IsAllowed)
            {
                tools.Add(Exposed(tool));
            }
        }

        return new ListToolsResult { Tools = tools };
    }

    private async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var name = request.Params?.Name is { Length: > 0 } n ? n : throw new McpProtocolException("tools/call needs a tool name.", McpErrorCode.InvalidParams);
        var address = _http.HttpContext is { } http ? Address(http) : null;
        var listing = await _hub.ListToolsAsync(null, cancellationToken).ConfigureAwait(false);
        var tool = listing.Tools.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.Ordinal));
        if (tool is null)
        {
            throw new McpProtocolException($"This desktop has no tool '{name}'; tools/list shows the ones this device may use.", McpErrorCode.InvalidParams);
        }

        // Marked before the device is read for the checks: a permission change from here on aborts this request.
        if (_http.HttpContext is { } current)
        {
            lock (_runningLock)
            {
                if (_running.TryGetValue(DeviceId(request.User), out var set) && set.ContainsKey(current))
                {
                    set[current] = tool.ServerId;
                }
            }
        }

        var device = await DeviceAsync(request.User, cancellationToken).ConfigureAwait(false);
        string? refusal = null;
        if (!HubChatToolProvider.Allows(device.Permissions, tool.ServerId))
        {
            refusal = $"This device lacks the '{Permissions.Tools}' or '{Permissions.ToolsServerPrefix}{tool.ServerId}' permission; grant it on the desktop.";
        }
        else if (_consent.Evaluate(tool.ServerId, tool.Tool, ConsentStore.ComputeHash(tool.Tool)) is { IsAllowed: false } consent)
        {
            refusal = $"{consent.Message} It can be allowed under MCP servers in the Atlas admin UI.";
        }

        if (refusal is not null)
        {
            await _audit.WriteAsync("mcp_tool_denied", device.Id, address, name, cancellationToken).ConfigureAwait(false);
            throw new McpProtocolException($"tool_denied: {refusal}", McpErrorCode.InvalidRequest);
        }

        var arguments = request.Params.Arguments?.ToDictionary(p => p.Key, p => (object?)p.Value, StringComparer.Ordinal);
        CallToolResult result;
        try
        {
            var progress = request.Params.ProgressToken is { } token ? new ProgressForwarder(request.Server, token, cancellationToken) : null;
            result = await _hub.CallToolAsync(tool.ServerId, tool.ToolName, arguments, progress, cancellationToken).ConfigureAwait(false);
            if (progress is not null)
            {
                await progress.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (HubException e)
        {
            await _audit.WriteAsync("mcp_tool_called", device.Id, address, $"{name} failed: {e.Code}", CancellationToken.None).ConfigureAwait(false);
            throw new McpProtocolException($"tool_failed: {e.Message}", McpErrorCode.InternalError);
        }

        await _audit.WriteAsync("mcp_tool_called", device.Id, address, result.IsError == true ? name + " error" : name + " ok", CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    /// <summary>The device as stored now (permissions changed since the session began count).</summary>
    private async Task<DeviceRecord> DeviceAsync(ClaimsPrincipal? user, CancellationToken cancellationToken)
    {
        var id = DeviceId(user);
        var device = await _devices.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return device is { Status: DeviceRecord.Active }
            ? device
            : throw new McpProtocolException("revoked: the device is no longer paired with this desktop.", McpErrorCode.InvalidRequest);
    }

    private static string DeviceId(ClaimsPrincipal? user) =>
        user?.FindFirst(SessionAuthenticationHandler.DeviceIdClaim)?.Value
        ?? throw new McpProtocolException("This endpoint needs a device session (Authorization: Bearer st_…).", McpErrorCode.InvalidRequest);

    private static Tool Exposed(HubTool tool) => new()
    {
        Name = tool.Name,
        Title = tool.Tool.Title,
        Description = tool.Tool.Description,
        InputSchema = tool.Tool.InputSchema,
        OutputSchema = tool.Tool.OutputSchema,
        Annotations = tool.Tool.Annotations,
    };

    private static string? Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString();

    /// <summary>Forwards the server's progress to the device in order (each notification after the previous one).</summary>
    private sealed class ProgressForwarder(McpServer server, ProgressToken token, CancellationToken cancellationToken) : IProgress<ProgressNotificationValue>
    {
        private readonly Lock _lock = new();
        private Task _last = Task.CompletedTask;

        public void Report(ProgressNotificationValue value)
        {
            lock (_lock)
            {
                _last = _last.ContinueWith(_ => server.NotifyProgressAsync(token, value, cancellationToken: cancellationToken),
                    cancellationToken, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            }
        }

        public async Task FlushAsync()
        {
            Task last;
            lock (_lock)
            {
                last = _last;
            }

            try
            {
                await last.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
            {
                // The device went away: the result write fails the same way.
            }
        }
    }
}

internal static class DeviceMcpEndpointExtensions
{
    public static IServiceCollection AddDeviceMcp(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddSingleton<DeviceMcpEndpoint>();
        services.AddMcpServer().WithHttpTransport(transport => transport.SessionMode = HttpServerSessionMode.Stateless);
        services.AddOptions<McpServerOptions>().Configure<DeviceMcpEndpoint>((options, endpoint) => endpoint.Configure(options));
        return services;
    }

    /// <summary>Maps <c>/mcp</c> behind the session authentication (the fallback policy), the global per-device rate limit
    /// and <see cref="DeviceMcpEndpoint.GateAsync"/>.</summary>
    public static void MapDeviceMcp(this WebApplication app)
    {
        var endpoint = app.Services.GetRequiredService<DeviceMcpEndpoint>();
        app.MapMcp(DeviceMcpEndpoint.Path).RequireAuthorization().Add(builder =>
        {
            var inner = builder.RequestDelegate ?? throw new InvalidOperationException("The MCP endpoint has no request delegate.");
            builder.RequestDelegate = context => endpoint.GateAsync(context, inner);
        });
    }
}
