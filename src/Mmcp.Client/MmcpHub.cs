using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mmcp.Client.Catalog;
using Mmcp.Client.Connectors;
using Mmcp.Client.Diagnostics;
using Mmcp.Client.Functions;
using Mmcp.Client.Lifecycle;
using Mmcp.Core.Naming;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>
/// The hub: discovers MCP servers, connects to each lazily, keeps it within its budgets (restarting it after a crash),
/// and aggregates the tools, resources and prompts of all of them behind one API. Thread-safe; create one per app.
/// </summary>
/// <remarks>
/// <para>Tools are exposed under aggregated names <c>&lt;serverId&gt;__&lt;tool&gt;</c>; calls may use either the aggregated
/// name or the server id and the tool's own name. Listing across servers runs in parallel and never fails as a whole:
/// each server's outcome is reported in <see cref="HubListing.Servers"/>.</para>
/// <para>Failures are <see cref="HubException"/>s with a stable <see cref="HubErrorCode"/>; a tool that reports an error
/// returns a result with <c>IsError</c> set.</para>
/// </remarks>
public sealed partial class MmcpHub : IAsyncDisposable
{
    private readonly ServerRegistry _registry;
    private readonly bool _ownsRegistry;
    private readonly HubRuntime _rt;
    private readonly ConcurrentDictionary<string, ServerSession> _sessions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _discoverLock = new(1, 1);
    private volatile bool _discovered;
    private volatile ToolNameMap _nameMap = ToolNameMap.Empty;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="MmcpHub"/> class over an existing registry.</summary>
    /// <param name="registry">Where servers come from. The hub does not dispose it.</param>
    /// <param name="options">The options; the defaults when <see langword="null"/>.</param>
    /// <param name="connectors">Extra connectors, asked before the built-in socket, stdio and HTTP connectors.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public MmcpHub(ServerRegistry registry, MmcpHubOptions? options = null, IEnumerable<IServerConnector>? connectors = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(registry, ownsRegistry: false, options ?? new MmcpHubOptions(), connectors, loggerFactory, timeProvider)
    {
    }

    private MmcpHub(ServerRegistry registry, bool ownsRegistry, MmcpHubOptions options, IEnumerable<IServerConnector>? connectors, ILoggerFactory? loggerFactory, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException($"Invalid hub options: {string.Join(" ", problems)}", nameof(options));
        }

        _registry = registry;
        _ownsRegistry = ownsRegistry;
        loggerFactory ??= NullLoggerFactory.Instance;
        var time = timeProvider ?? TimeProvider.System;
        var environment = options.Registry.Environment;
        var cache = new ToolCacheStore(
            options.PersistToolCache ? options.CacheDirectory ?? ToolCacheStore.DefaultDirectory(environment) : null,
            loggerFactory.CreateLogger<ToolCacheStore>(),
            time);
        IServerConnector[] builtIn = [new SocketConnector(), new StdioConnector(), new HttpConnector()];
        _rt = new HubRuntime(options, [.. connectors ?? [], .. builtIn], environment, loggerFactory, time, cache)
        {
            ListChanged = RaiseListChanged,
        };
        foreach (var server in options.Servers)
        {
            registry.AddServer(server);
        }

        _registry.Changed += OnRegistryChanged;
    }

    /// <summary>Raised when servers appear, disappear or change definition.</summary>
    public event EventHandler<RegistryChangedEventArgs>? ServersChanged;

    /// <summary>Raised when a server's tools, resources or prompts change (announced by the server, or seen in a fresh live list).</summary>
    public event EventHandler<HubListChangedEventArgs>? ListChanged;

    /// <summary>
    /// Gets or sets how the shared connections answer the requests servers send (sampling, elicitation, roots) and
    /// where their log messages and resource updates go. Set it before the first connection opens: each connection
    /// declares the capabilities of the handlers present at its handshake. Dedicated connections are set up by their
    /// opener instead (<see cref="DedicatedConnectionOptions"/>).
    /// </summary>
    public HubServerRequests? ServerRequests
    {
        get => _rt.ServerRequests;
        set => _rt.ServerRequests = value;
    }

    /// <summary>Gets the registry the hub discovers servers from.</summary>
    public ServerRegistry Registry => _registry;

    /// <summary>Gets the options.</summary>
    public MmcpHubOptions Options => _rt.Options;

    /// <summary>Creates a hub over the default sources described by <see cref="MmcpHubOptions.Registry"/>.</summary>
    /// <param name="options">The options; the defaults when <see langword="null"/>.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>The hub; it owns (and disposes) its registry.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static MmcpHub Create(MmcpHubOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        options ??= new MmcpHubOptions();
        var registry = ServerRegistry.Create(options.Registry, timeProvider, loggerFactory?.CreateLogger<ServerRegistry>());
        return new MmcpHub(registry, ownsRegistry: true, options, connectors: null, loggerFactory, timeProvider);
    }

    // ------------------------------------------------------------------------------------------------ discovery

    /// <summary>Reads every source now and returns the servers with their connection state, and every problem found.</summary>
    /// <param name="cancellationToken">Cancels discovery.</param>
    /// <returns>The servers (ordered by id) and diagnostics (invalid manifests with file, field and reason).</returns>
    public async ValueTask<DiscoveryResult> DiscoverServersAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var snapshot = await _registry.RefreshAsync(cancellationToken).ConfigureAwait(false);
        StartWatchingOnce();
        return Describe(snapshot);
    }

    /// <summary>Returns the connection state of one server.</summary>
    /// <param name="serverId">The server id.</param>
    /// <returns>The state.</returns>
    /// <exception cref="HubException">No server has that id (<see cref="HubErrorCode.UnknownServer"/>).</exception>
    public ServerStatus GetServerStatus(string serverId) => GetSession(serverId).Status;

    /// <summary>Closes a server's connection and forgets its tool lists, as a changed definition does, so that the next
    /// use connects afresh: after the user signed in to it or out of it (the connection holds the old authorization).</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="cancellationToken">Cancels waiting for discovery.</param>
    /// <returns>A task that completes when the connection is closed.</returns>
    /// <exception cref="HubException">No server has that id (<see cref="HubErrorCode.UnknownServer"/>).</exception>
    public async ValueTask ReconnectAsync(string serverId, CancellationToken cancellationToken = default)
    {
        var session = await SessionAsync(serverId, cancellationToken).ConfigureAwait(false);
        await session.UpdateAsync(session.Server).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------------------------------------ tools

    /// <summary>
    /// Lists the tools of every server (or of one), in parallel with each server's budgets. A live answer wins; a server
    /// that is still starting is served from its last live list (also kept in a cache file) or its manifest snapshot.
    /// </summary>
    /// <param name="serverId">One server's id, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels listing.</param>
    /// <returns>The tools under their aggregated names, and the outcome per server.</returns>
    /// <exception cref="HubException"><paramref name="serverId"/> names no server (<see cref="HubErrorCode.UnknownServer"/>).</exception>
    public async ValueTask<ToolListing> ListToolsAsync(string? serverId = null, CancellationToken cancellationToken = default)
    {
        var sessions = await SessionsAsync(serverId, cancellationToken).ConfigureAwait(false);
        var results = await Task.WhenAll(sessions.Select(s => s.ListToolsForListingAsync(cancellationToken))).ConfigureAwait(false);

        // Names depend on the set of every known tool (collisions are settled across servers), not just the listed ones.
        var listed = sessions.Zip(results, (s, r) => (s.Id, Tools: r.Tools ?? [], r.Result)).ToList();
        var map = BuildNameMap(listed.SelectMany(l => l.Tools.Select(t => new QualifiedToolName(l.Id, t.Name))));
        var tools = listed
            .SelectMany(l => l.Tools.Select(t => new HubTool(map.GetExposedName(l.Id, t.Name)!, l.Id, t, l.Result.Source)))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        return new ToolListing(tools, [.. listed.Select(l => l.Result)]);
    }

    /// <summary>
    /// Asks one server for its tools afresh, then lists its tools as <see cref="ListToolsAsync(string?, CancellationToken)"/>
    /// does: its last list is dropped and the server asked again (connecting, or starting it, when needed), however soon
    /// it answers. For a tool name a caller has just learned of (a server that announced a new tool, or announces none)
    /// that a listing does not show yet.
    /// </summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The server's tools; a failure to list is in <see cref="HubListing.Failures"/>.</returns>
    /// <exception cref="HubException">No server has that id.</exception>
    public async ValueTask<ToolListing> RefreshToolsAsync(string serverId, CancellationToken cancellationToken = default)
    {
        var session = await SessionAsync(serverId, cancellationToken).ConfigureAwait(false);
        try
        {
            await session.RefreshToolsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HubException)
        {
            // The listing below reports it as the server's failure.
        }

        return await ListToolsAsync(serverId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Calls a tool of a server. Connects (or restarts) the server when needed; never retried.</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="toolName">The tool's own name on that server.</param>
    /// <param name="arguments">The arguments (values are serialized as JSON), or <see langword="null"/>.</param>
    /// <param name="progress">
    /// Receives the server's progress notifications, in the order the server sent them. When it also implements
    /// <see cref="IProgress{T}"/> of <see cref="System.Text.Json.Nodes.JsonObject"/>, that receives each notification's
    /// params instead, as the server wrote them (a copy; <c>progressToken</c> is the hub's own token for the call).
    /// </param>
    /// <param name="cancellationToken">Cancels the call; the server is told (<c>notifications/cancelled</c>).</param>
    /// <returns>The result. A tool that reports an error returns a result with <c>IsError</c> set.</returns>
    /// <exception cref="HubException">The server or tool is unknown, the server cannot be started or reached, the call timed out or the server crashed.</exception>
    public async ValueTask<CallToolResult> CallToolAsync(string serverId, string toolName, IReadOnlyDictionary<string, object?>? arguments = null, IProgress<ProgressNotificationValue>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(toolName);
        if (LatencyProbe.Enabled)
        {
            LatencyProbe.Mark(LatencyMark.HubEntered);
        }

        var session = await SessionAsync(serverId, cancellationToken).ConfigureAwait(false);
        var result = await session.CallToolAsync(toolName, arguments, progress, cancellationToken).ConfigureAwait(false);
        if (LatencyProbe.Enabled)
        {
            LatencyProbe.Mark(LatencyMark.HubReturned);
        }

        return result;
    }

    /// <summary>Calls a tool by its aggregated name <c>&lt;serverId&gt;__&lt;tool&gt;</c> (as listed by <see cref="ListToolsAsync"/>).</summary>
    /// <param name="aggregatedName">The aggregated name.</param>
    /// <param name="arguments">The arguments, or <see langword="null"/>.</param>
    /// <param name="progress">Receives progress notifications, as in <see cref="CallToolAsync(string, string, IReadOnlyDictionary{string, object?}?, IProgress{ProgressNotificationValue}?, CancellationToken)"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The result.</returns>
    /// <exception cref="HubException">No tool has that aggregated name, or the call failed.</exception>
    public async ValueTask<CallToolResult> CallToolAsync(string aggregatedName, IReadOnlyDictionary<string, object?>? arguments, IProgress<ProgressNotificationValue>? progress = null, CancellationToken cancellationToken = default)
    {
        var tool = await ResolveToolNameAsync(aggregatedName, cancellationToken).ConfigureAwait(false);
        return await CallToolAsync(tool.ServerId, tool.ToolName, arguments, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resolves an aggregated tool name to its server and tool, listing tools when the name is not yet known.</summary>
    /// <param name="aggregatedName">The aggregated name.</param>
    /// <param name="cancellationToken">Cancels listing.</param>
    /// <returns>The server and tool.</returns>
    /// <exception cref="HubException">No tool has that name (<see cref="HubErrorCode.UnknownTool"/>).</exception>
    public async ValueTask<QualifiedToolName> ResolveToolNameAsync(string aggregatedName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(aggregatedName);
        if (_nameMap.TryResolve(aggregatedName, out var tool))
        {
            return tool;
        }

        await ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        if (_nameMap.TryResolve(aggregatedName, out tool))
        {
            return tool;
        }

        var hint = aggregatedName.Contains(ToolNameMap.Separator, StringComparison.Ordinal)
            ? "Run 'mmcp tools' to see the names, or call it with the server id and the tool's own name."
            : $"Aggregated names look like '<server>{ToolNameMap.Separator}<tool>'; run 'mmcp tools' to see them.";
        throw new HubException(HubErrorCode.UnknownTool, null, $"No tool is named '{aggregatedName}'. {hint}") { Target = aggregatedName };
    }

    /// <summary>Returns the tools of every server (or one) as <c>Microsoft.Extensions.AI</c> functions named <c>&lt;serverId&gt;__&lt;tool&gt;</c>, for <c>ChatOptions.Tools</c>.</summary>
    /// <param name="serverId">One server's id, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels listing.</param>
    /// <returns>The functions. Invoking one calls the tool through the hub and flattens its result (see <see cref="HubToolResults.ToFunctionResult"/>).</returns>
    public async ValueTask<IReadOnlyList<AIFunction>> GetAIFunctionsAsync(string? serverId = null, CancellationToken cancellationToken = default)
    {
        var listing = await ListToolsAsync(serverId, cancellationToken).ConfigureAwait(false);
        return [.. listing.Tools.Select(CreateAIFunction)];
    }

    /// <summary>Returns one listed tool as a <c>Microsoft.Extensions.AI</c> function, as <see cref="GetAIFunctionsAsync"/> does for each.</summary>
    /// <param name="tool">A tool from <see cref="ListToolsAsync"/>.</param>
    /// <returns>The function: named <c>&lt;serverId&gt;__&lt;tool&gt;</c>, with <c>mmcp.server</c> and <c>mmcp.tool</c> in its additional properties.</returns>
    public AIFunction CreateAIFunction(HubTool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return new HubToolFunction(this, tool);
    }

    // ------------------------------------------------------------------------------------------------ raw requests, dedicated connections, traffic

    /// <summary>
    /// Sends any JSON-RPC request to a server over the hub's shared connection, within the server's budgets (lists and
    /// reads are retried once after a crash; other requests never). For gateways that forward requests as they are.
    /// </summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="request">The request; its id is assigned by the connection (a copy is sent).</param>
    /// <param name="cancellationToken">Cancels the request (the server is told).</param>
    /// <returns>The response.</returns>
    /// <exception cref="HubException">The server is unknown or failed; a JSON-RPC error from the server is a <see cref="HubException"/> whose inner exception is the SDK's <see cref="McpProtocolException"/> with the server's code.</exception>
    public async ValueTask<JsonRpcResponse> SendRequestAsync(string serverId, JsonRpcRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var session = await SessionAsync(serverId, cancellationToken).ConfigureAwait(false);
        var kind = request.Method switch
        {
            RequestMethods.ToolsCall => RequestKind.CallTool,
            RequestMethods.ResourcesRead => RequestKind.ReadResource,
            RequestMethods.PromptsGet => RequestKind.GetPrompt,
            RequestMethods.ToolsList or RequestMethods.ResourcesList or RequestMethods.ResourcesTemplatesList or RequestMethods.PromptsList => RequestKind.List,
            _ => RequestKind.CallTool,
        };
        return await session.ExecuteAsync(
            request.Method,
            request.Params?["name"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? request.Params["name"]!.GetValue<string>() : null,
            kind,
            (client, ct) => new ValueTask<JsonRpcResponse>(client.SendRequestAsync(new JsonRpcRequest { Method = request.Method, Params = request.Params?.DeepClone(), Context = request.Context }, ct)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a connection of its own to a server, next to the shared one, with the server's launch and handshake
    /// budgets. Its session state (resource subscriptions, logging level, sampling and elicitation requests) belongs to
    /// the caller alone. For a stdio server this starts another process.
    /// </summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="options">How to set up the client (capabilities and handlers), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The connection; the caller disposes it.</returns>
    /// <exception cref="HubException">The server is unknown, or could not be started or reached.</exception>
    public async ValueTask<HubServerConnection> OpenDedicatedConnectionAsync(string serverId, DedicatedConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var session = await SessionAsync(serverId, cancellationToken).ConfigureAwait(false);
        var (live, budgets) = await session.OpenDedicatedAsync(options?.ConfigureClient, options?.OnMessageReceived, cancellationToken).ConfigureAwait(false);
        return new HubServerConnection(session.Id, live, live.ConnectionId, budgets);
    }

    /// <summary>
    /// Observes the JSON-RPC traffic between the hub and one server (or all), on the shared connection and on dedicated
    /// ones: requests, responses, errors and notifications, each with the time it was seen. Free while nobody observes.
    /// </summary>
    /// <param name="serverId">One server's id, or <see langword="null"/> for every server.</param>
    /// <param name="observer">Called inline on the transport's thread for each message: queue it and return quickly; it must not change the message.</param>
    /// <returns>Dispose it to stop observing.</returns>
    public IDisposable ObserveTraffic(string? serverId, Action<Traffic.HubTrafficEvent> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return _rt.Traffic.Subscribe(serverId, observer);
    }

    // ------------------------------------------------------------------------------------------------ resources and prompts

    /// <summary>Lists the resources and resource templates of every server (or one), in parallel; a failing server is reported, and its manifest snapshot served when it has one.</summary>
    /// <param name="serverId">One server's id, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels listing.</param>
    /// <returns>The resources, templates and the outcome per server.</returns>
    public async ValueTask<ResourceListing> ListResourcesAsync(string? serverId = null, CancellationToken cancellationToken = default)
    {
        var sessions = await SessionsAsync(serverId, cancellationToken).ConfigureAwait(false);
        var results = await Task.WhenAll(sessions.Select(s =>
        {
            var snapshot = s.Server.Manifest.Capabilities;
            return s.ListWithFallbackAsync(
                ct => ListResourcesLiveAsync(s, ct).AsTask(),
                snapshot is null ? null : new ResourceLists(snapshot.Resources, snapshot.ResourceTemplates),
                ListSource.Snapshot,
                cancellationToken);
        })).ConfigureAwait(false);
        var listed = sessions.Zip(results, (s, r) => (s.Id, Lists: r.Items ?? ResourceLists.Empty, r.Result)).ToList();
        return new ResourceListing(
            [.. listed.SelectMany(l => l.Lists.Resources.Select(r => new HubResource(l.Id, r))).OrderBy(r => r.ServerId, StringComparer.Ordinal).ThenBy(r => r.Resource.Uri, StringComparer.Ordinal)],
            [.. listed.SelectMany(l => l.Lists.Templates.Select(t => new HubResourceTemplate(l.Id, t))).OrderBy(r => r.ServerId, StringComparer.Ordinal).ThenBy(r => r.Template.UriTemplate, StringComparer.Ordinal)],
            [.. listed.Select(l => l.Result)]);
    }

    /// <summary>Reads a resource of a server (retried once on a fresh connection if the server crashed).</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="uri">The resource URI, as the server lists it (or matching one of its templates).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The contents.</returns>
    /// <exception cref="HubException">The server is unknown or failed, or has nothing at that URI (<see cref="HubErrorCode.NotFound"/>).</exception>
    public async ValueTask<ReadResourceResult> ReadResourceAsync(string serverId, string uri, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        var session = await SessionAsync(serverId, cancellationToken).ConfigureAwait(false);
        return await session.ExecuteAsync(
            RequestMethods.ResourcesRead,
            uri,
            RequestKind.ReadResource,
            (client, ct) => ResultJson.RequestAsync<ReadResourceRequestParams, ReadResourceResult>(client, RequestMethods.ResourcesRead, new() { Uri = uri }, ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Subscribes to updates of a resource of a server on its shared connection (<c>resources/subscribe</c>, or on a
    /// 2026-07-28 connection a <c>subscriptions/listen</c> naming it). The server's <c>notifications/resources/updated</c>
    /// reach <see cref="HubServerRequests.Notification"/>. A subscription ends with the connection (an idle close or a
    /// restart); subscribe again after <see cref="ListChanged"/> or a reconnect when it must outlive them.
    /// </summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="uri">The resource URI.</param>
    /// <param name="cancellationToken">Cancels subscribing.</param>
    /// <returns>The subscription: dispose it to unsubscribe.</returns>
    /// <exception cref="HubException">The server is unknown, failed, or does not support subscriptions.</exception>
    public async ValueTask<IAsyncDisposable> SubscribeToResourceAsync(string serverId, string uri, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        var session = await SessionAsync(serverId, cancellationToken).ConfigureAwait(false);
        return await session.SubscribeAsync(uri, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists the prompts of every server (or one), in parallel; a failing server is reported, and its manifest snapshot served when it has one.</summary>
    /// <param name="serverId">One server's id, or <see langword="null"/> for all.</param>
    /// <param name="cancellationToken">Cancels listing.</param>
    /// <returns>The prompts and the outcome per server.</returns>
    public async ValueTask<PromptListing> ListPromptsAsync(string? serverId = null, CancellationToken cancellationToken = default)
    {
        var sessions = await SessionsAsync(serverId, cancellationToken).ConfigureAwait(false);
        var results = await Task.WhenAll(sessions.Select(s => s.ListWithFallbackAsync(
            ct => ListPromptsLiveAsync(s, ct),
            s.Server.Manifest.Capabilities?.Prompts,
            ListSource.Snapshot,
            cancellationToken))).ConfigureAwait(false);
        var listed = sessions.Zip(results, (s, r) => (s.Id, Prompts: r.Items ?? [], r.Result)).ToList();
        return new PromptListing(
            [.. listed.SelectMany(l => l.Prompts.Select(p => new HubPrompt(l.Id, p))).OrderBy(p => p.ServerId, StringComparer.Ordinal).ThenBy(p => p.Prompt.Name, StringComparer.Ordinal)],
            [.. listed.Select(l => l.Result)]);
    }

    /// <summary>
    /// A prompt argument as MCP defines them, a string: a value given as another JSON value (a number, a boolean, an
    /// object) is sent as its JSON text, as the REST face does, instead of a value servers refuse ("expected string").
    /// </summary>
    private static JsonElement PromptArgument(object? value)
    {
        var element = value is JsonElement e ? e : JsonSerializer.SerializeToElement(value, McpJsonUtilities.DefaultOptions.GetTypeInfo(value?.GetType() ?? typeof(object)));
        return element.ValueKind is JsonValueKind.String or JsonValueKind.Null or JsonValueKind.Undefined
            ? element
            : JsonSerializer.SerializeToElement(element.GetRawText(), McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(string)));
    }

    /// <summary>Gets a prompt of a server with its arguments filled in.</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="name">The prompt name.</param>
    /// <param name="arguments">The prompt arguments, or <see langword="null"/>: strings, or other values sent as their JSON text.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The prompt's messages.</returns>
    /// <exception cref="HubException">The server is unknown or failed, has no such prompt (<see cref="HubErrorCode.NotFound"/>), or rejected the arguments.</exception>
    public async ValueTask<GetPromptResult> GetPromptAsync(string serverId, string name, IReadOnlyDictionary<string, object?>? arguments = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var session = await SessionAsync(serverId, cancellationToken).ConfigureAwait(false);
        try
        {
            return await session.ExecuteAsync(
                RequestMethods.PromptsGet,
                name,
                RequestKind.GetPrompt,
                (client, ct) => ResultJson.RequestAsync<GetPromptRequestParams, GetPromptResult>(client, RequestMethods.PromptsGet, new()
                {
                    Name = name,
                    Arguments = arguments?.ToDictionary(kv => kv.Key, kv => PromptArgument(kv.Value), StringComparer.Ordinal),
                }, ct),
                cancellationToken).ConfigureAwait(false);
        }
        catch (HubException ex) when (ex.Code is HubErrorCode.InvalidArguments or HubErrorCode.ServerError)
        {
            // Servers answer an unknown prompt, a missing argument and a bad one alike (-32602, or even -32603):
            // tell them apart by the prompt list.
            var prompts = await ListPromptsLiveAsync(session, cancellationToken).ConfigureAwait(false);
            if (prompts.FirstOrDefault(p => p.Name == name) is not { } prompt)
            {
                throw new HubException(HubErrorCode.NotFound, serverId, $"Server '{serverId}' has no prompt '{name}'. {(prompts.Count == 0 ? "It offers no prompts." : $"Its prompts: {string.Join(", ", prompts.Select(p => p.Name))}.")}", ex) { Target = name };
            }

            var missing = (prompt.Arguments ?? []).Where(a => a.Required == true && arguments?.ContainsKey(a.Name) != true).Select(a => a.Name).ToList();
            if (missing.Count > 0)
            {
                throw new HubException(HubErrorCode.InvalidArguments, serverId, $"Prompt '{name}' of server '{serverId}' needs the argument{(missing.Count > 1 ? "s" : string.Empty)} {string.Join(", ", missing.Select(m => $"'{m}'"))}.", ex) { Target = name };
            }

            throw;
        }
    }

    // ------------------------------------------------------------------------------------------------ disposal

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _registry.Changed -= OnRegistryChanged;
        await Task.WhenAll(_sessions.Values.Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
        _sessions.Clear();
        await _rt.Cache.FlushAsync().ConfigureAwait(false);
        if (_ownsRegistry)
        {
            await _registry.DisposeAsync().ConfigureAwait(false);
        }

        _discoverLock.Dispose();
    }

    // ------------------------------------------------------------------------------------------------ internals

    private static ValueTask<ResourceLists> ListResourcesLiveAsync(ServerSession session, CancellationToken cancellationToken) =>
        session.ExecuteAsync(RequestMethods.ResourcesList, null, RequestKind.List, async (client, ct) =>
        {
            if (client.ServerCapabilities.Resources is null)
            {
                return ResourceLists.Empty;
            }

            var resources = await ServerSession.ListAllPagesAsync(c => ServerSession.ListPageAsync<ListResourcesRequestParams, ListResourcesResult, Resource>(client, RequestMethods.ResourcesList, new() { Cursor = c }, "resources", r => r.Resources, ct), r => r.Resources, r => r.NextCursor).ConfigureAwait(false);
            IReadOnlyList<ResourceTemplate> templates;
            try
            {
                templates = await ServerSession.ListAllPagesAsync(c => ServerSession.ListPageAsync<ListResourceTemplatesRequestParams, ListResourceTemplatesResult, ResourceTemplate>(client, RequestMethods.ResourcesTemplatesList, new() { Cursor = c }, "resourceTemplates", r => r.ResourceTemplates, ct), r => r.ResourceTemplates, r => r.NextCursor).ConfigureAwait(false);
            }
            catch (McpProtocolException ex) when (ex.ErrorCode == McpErrorCode.MethodNotFound)
            {
                // The resources capability does not say whether a server has templates; many (the TypeScript SDK's
                // low-level Server, when it registers no handler) answer -32601. That is a server without templates,
                // not a server whose resources cannot be listed.
                templates = [];
            }

            return new ResourceLists(resources, templates);
        }, cancellationToken);

    private static async Task<IReadOnlyList<Prompt>> ListPromptsLiveAsync(ServerSession session, CancellationToken cancellationToken) =>
        await session.ExecuteAsync<IReadOnlyList<Prompt>>(RequestMethods.PromptsList, null, RequestKind.List, async (client, ct) =>
            client.ServerCapabilities.Prompts is null
                ? []
                : await ServerSession.ListAllPagesAsync(c => ServerSession.ListPageAsync<ListPromptsRequestParams, ListPromptsResult, Prompt>(client, RequestMethods.PromptsList, new() { Cursor = c }, "prompts", r => r.Prompts, ct), r => r.Prompts, r => r.NextCursor).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

    private ToolNameMap BuildNameMap(IEnumerable<QualifiedToolName> listed)
    {
        var known = _registry.Current.Servers.SelectMany(s => GetOrAddSession(s).KnownTools.Tools.Select(t => new QualifiedToolName(s.Id, t.Name)));
        var map = ToolNameMap.Create(known.Concat(listed));
        _nameMap = map;
        return map;
    }

    private async ValueTask EnsureDiscoveredAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_discovered)
        {
            return;
        }

        await _discoverLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_discovered)
            {
                await _registry.RefreshAsync(cancellationToken).ConfigureAwait(false);
                StartWatchingOnce();
            }
        }
        finally
        {
            _discoverLock.Release();
        }
    }

    private void StartWatchingOnce()
    {
        if (_discovered)
        {
            return;
        }

        _discovered = true;
        if (_rt.Options.WatchRegistry)
        {
            Shared.Telemetry.Detached.Start(_registry.StartWatching); // its timers outlive the request that discovered first
        }
    }

    private async ValueTask<ServerSession> SessionAsync(string serverId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        await EnsureDiscoveredAsync(cancellationToken).ConfigureAwait(false);
        return GetSession(serverId);
    }

    private async ValueTask<IReadOnlyList<ServerSession>> SessionsAsync(string? serverId, CancellationToken cancellationToken)
    {
        await EnsureDiscoveredAsync(cancellationToken).ConfigureAwait(false);
        return serverId is null ? [.. _registry.Current.Servers.Select(GetOrAddSession)] : [GetSession(serverId)];
    }

    private ServerSession GetSession(string serverId)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var snapshot = _registry.Current;
        if (snapshot.Find(serverId) is { } server)
        {
            return GetOrAddSession(server);
        }

        var known = snapshot.Servers.Count == 0 ? "No servers were discovered at all" : $"Known servers: {string.Join(", ", snapshot.Servers.Select(s => s.Id).Take(20))}{(snapshot.Servers.Count > 20 ? ", …" : string.Empty)}";
        var invalid = snapshot.Diagnostics.Any(d => d.Severity == Core.Manifests.DiagnosticSeverity.Error && d.File.Contains(serverId, StringComparison.Ordinal))
            ? " A definition with that name was found but is invalid; run 'mmcp servers' to see why."
            : " Run 'mmcp servers' to see every server and where it comes from.";
        HubTelemetry.RecordError(serverId, HubErrorCode.UnknownServer);
        throw new HubException(HubErrorCode.UnknownServer, serverId, $"No server has the id '{serverId}'. {known}.{invalid}");
    }

    private ServerSession GetOrAddSession(DiscoveredServer server)
    {
        // Redefinitions reach existing sessions through the registry's Changed event (which compares content).
        return _sessions.GetOrAdd(server.Id, static (_, a) => new ServerSession(a.server, a.rt), (server, rt: _rt));
    }

    private DiscoveryResult Describe(RegistrySnapshot snapshot) =>
        new([.. snapshot.Servers.Select(s => new HubServerInfo(s, GetOrAddSession(s).Status))], snapshot.Diagnostics);

    private void OnRegistryChanged(object? sender, RegistryChangedEventArgs e)
    {
        foreach (var id in e.Removed)
        {
            if (_sessions.TryRemove(id, out var session))
            {
                _ = session.DisposeAsync().AsTask();
            }
        }

        foreach (var id in e.Updated)
        {
            if (_sessions.TryGetValue(id, out var session) && e.Snapshot.Find(id) is { } server)
            {
                _ = session.UpdateAsync(server).AsTask();
            }
        }

        try
        {
            ServersChanged?.Invoke(this, e);
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_rt.Logger, nameof(ServersChanged), ex);
        }
    }

    private void RaiseListChanged(string serverId, HubListKind kind)
    {
        try
        {
            ListChanged?.Invoke(this, new HubListChangedEventArgs(serverId, kind));
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_rt.Logger, nameof(ListChanged), ex);
        }
    }

    private sealed record ResourceLists(IReadOnlyList<Resource> Resources, IReadOnlyList<ResourceTemplate> Templates)
    {
        public static ResourceLists Empty { get; } = new([], []);
    }

    private static partial class Log
    {
        [LoggerMessage(3101, LogLevel.Error, "A {Event} handler threw")]
        public static partial void HandlerFailed(ILogger logger, string @event, Exception exception);
    }
}
