using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mmcp.Client.Storage;
using Mmcp.Core.Registry;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Shared.Storage;

namespace Mmcp.Client.Consent;

/// <summary>A user's decision about a server or a tool.</summary>
public enum ConsentDecision
{
    /// <summary>Allowed (for a tool: its definition as pinned).</summary>
    Allow,

    /// <summary>Denied: hidden from lists, calls refused.</summary>
    Deny,
}

/// <summary>What happens to tools nobody has decided on yet.</summary>
public enum ConsentPolicy
{
    /// <summary>
    /// Trust on first use (the default): a tool seen for the first time is allowed and its definition pinned; a later
    /// change of that definition is held until the user approves it again. Fits servers the user installed.
    /// </summary>
    TrustOnFirstUse,

    /// <summary>Nothing is allowed until the user allows the server (its tools are then pinned as they are first seen) or the tool.</summary>
    AskFirst,
}

/// <summary>Where a tool stands with the consent store.</summary>
public enum ToolConsentStatus
{
    /// <summary>Allowed, with this exact definition.</summary>
    Allowed,

    /// <summary>The user denied the tool or its server.</summary>
    Denied,

    /// <summary>The definition (description, schema, annotations) changed since it was approved: held until approved again.</summary>
    Changed,

    /// <summary>Nobody has decided yet and the policy asks first.</summary>
    Pending,
}

/// <summary>The consent store's verdict on one tool.</summary>
/// <param name="Status">Where the tool stands.</param>
/// <param name="Message">Why, and how to change it (names the <c>mmcp consent</c> command); <see langword="null"/> when allowed.</param>
public sealed record ToolConsent(ToolConsentStatus Status, string? Message)
{
    /// <summary>Gets a value indicating whether the tool may be listed and called.</summary>
    public bool IsAllowed => Status == ToolConsentStatus.Allowed;
}

/// <summary>A recorded decision about a server.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Decision">The decision.</param>
/// <param name="DecidedAt">When it was made.</param>
public sealed record ServerConsentEntry(string ServerId, ConsentDecision Decision, DateTimeOffset DecidedAt);

/// <summary>A recorded decision about a tool.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="ToolName">The tool's own name on its server.</param>
/// <param name="Decision">The decision.</param>
/// <param name="PinnedHash">The hash of the approved definition (<c>sha256:…</c>), or <see langword="null"/> to pin whatever is seen next.</param>
/// <param name="DecidedAt">When it was made.</param>
/// <param name="DecidedBy">Who decided: <c>user</c> or <c>trust-on-first-use</c>.</param>
public sealed record ToolConsentEntry(string ServerId, string ToolName, ConsentDecision Decision, string? PinnedHash, DateTimeOffset DecidedAt, string DecidedBy);

/// <summary>
/// The user's consent decisions per server and per tool, kept in a JSON file only the user can read
/// (<c>$XDG_CONFIG_HOME/mmcp/consent.json</c> by default). Each approved tool's definition (description, input and
/// output schema, annotations) is pinned by its SHA-256; a changed definition is held until approved again, so a
/// server cannot silently rewrite a tool after it was trusted ("rug pull"). Thread-safe, and safe to share between
/// processes: every change is a locked read-modify-write, and changes made by other processes are seen at once.
/// </summary>
public sealed class ConsentStore : IAsyncDisposable
{
    private const int FormatVersion = 1;

    // Guards the cached state only; never held across file I/O, so a caller that reads (the request path) never
    // waits for a writer that waits for the file lock.
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private FileStamp _stamp = FileStamp.Unread;
    private State _state = new();

    // Pins written in the background because another writer held the file lock; awaited by WhenPinsWrittenAsync and
    // on disposal, so a pin is not lost when the process stops right after a tool's first sight.
    private readonly HashSet<Task> _pendingPins = [];

    /// <summary>Initializes a new instance of the <see cref="ConsentStore"/> class.</summary>
    /// <param name="path">The file that holds the decisions (created on first change, mode 0600).</param>
    /// <param name="policy">What happens to tools nobody has decided on yet.</param>
    /// <param name="timeProvider">The clock for decision times.</param>
    public ConsentStore(string path, ConsentPolicy policy = ConsentPolicy.TrustOnFirstUse, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        Policy = policy;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the file that holds the decisions.</summary>
    public string Path { get; }

    /// <summary>Gets what happens to tools nobody has decided on yet.</summary>
    public ConsentPolicy Policy { get; }

    /// <summary>Returns the default file: <c>$XDG_CONFIG_HOME/mmcp/consent.json</c> (or <c>~/.config/mmcp/consent.json</c>).</summary>
    /// <param name="environment">The environment, or <see langword="null"/> for the process's.</param>
    /// <returns>The path.</returns>
    public static string DefaultPath(MmcpEnvironment? environment = null) =>
        System.IO.Path.Combine((environment ?? MmcpEnvironment.Process).ConfigHome, "mmcp", "consent.json");

    /// <summary>Computes the pin of a tool definition: SHA-256 over the canonical JSON of its name, title, description, input and output schema and annotations.</summary>
    /// <param name="tool">The tool.</param>
    /// <returns><c>sha256:</c> followed by lower-case hex.</returns>
    public static string ComputeHash(Tool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        var node = new JsonObject
        {
            ["name"] = tool.Name,
            ["title"] = tool.Title,
            ["description"] = tool.Description,
            ["inputSchema"] = JsonNode.Parse(tool.InputSchema.GetRawText()),
            ["outputSchema"] = tool.OutputSchema is { } output ? JsonNode.Parse(output.GetRawText()) : null,
            ["annotations"] = tool.Annotations is { } a ? JsonSerializer.SerializeToNode(a, McpJsonUtilities.GetTypeInfo<ToolAnnotations>(McpJsonUtilities.DefaultOptions)) : null,
        };
        var canonical = Canonical(node);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>
    /// Decides whether a tool may be listed and called. Under <see cref="ConsentPolicy.TrustOnFirstUse"/> (or once its
    /// server is allowed) a tool seen for the first time is pinned and allowed.
    /// </summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="tool">The tool as the server describes it now.</param>
    /// <returns>The verdict.</returns>
    public ToolConsent Evaluate(string serverId, Tool tool) => Evaluate(serverId, tool, ComputeHash(tool));

    /// <summary>Decides whether a tool may be listed and called, given its precomputed <see cref="ComputeHash"/>.</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="tool">The tool.</param>
    /// <param name="hash">Its hash.</param>
    /// <returns>The verdict.</returns>
    public ToolConsent Evaluate(string serverId, Tool tool, string hash)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        ArgumentNullException.ThrowIfNull(tool);
        var state = Current();
        var verdict = Judge(state, serverId, tool.Name, hash, out var pinNow);
        if (!pinNow)
        {
            return verdict;
        }

        // First sight under trust-on-first-use (or of an allowed server, or a tool allowed before it was seen): pin it.
        var changedMeanwhile = false;
        ToolConsent? final = null;
        bool Pin(State s)
        {
            var again = Judge(s, serverId, tool.Name, hash, out var stillPin);
            if (!stillPin)
            {
                changedMeanwhile = true;
                final = again;
                return false;
            }

            var existing = s.Tools.GetValueOrDefault((serverId, tool.Name));
            s.Tools[(serverId, tool.Name)] = new ToolConsentEntry(serverId, tool.Name, ConsentDecision.Allow, hash, existing?.DecidedAt ?? _time.GetUtcNow(), existing?.DecidedBy ?? "trust-on-first-use");
            return true;
        }

        // Evaluating is on the request path: it never waits for the file lock. When another writer holds it, the pin is
        // written as soon as the lock is free (judged again then, so it never overrides a decision made meanwhile).
        if (!TryMutate(Pin))
        {
            TrackPending(PinLaterAsync(Pin));
        }

        return changedMeanwhile ? final! : new ToolConsent(ToolConsentStatus.Allowed, null);
    }

    /// <summary>
    /// Waits until every pin that <see cref="Evaluate(string, Tool)"/> had to leave for later (another writer held the
    /// file lock) has been written or given up on.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting (the pins go on being written).</param>
    /// <returns>A task that completes when no pin started before the call is pending.</returns>
    public Task WhenPinsWrittenAsync(CancellationToken cancellationToken = default)
    {
        Task[] pending;
        lock (_pendingPins)
        {
            pending = [.. _pendingPins];
        }

        return pending.Length == 0 ? Task.CompletedTask : Task.WhenAll(pending).WaitAsync(cancellationToken);
    }

    /// <summary>Writes the pins still pending (see <see cref="WhenPinsWrittenAsync"/>).</summary>
    /// <returns>A task that completes when they are written or given up on.</returns>
    public async ValueTask DisposeAsync() => await WhenPinsWrittenAsync().ConfigureAwait(false);

    private void TrackPending(Task pin)
    {
        lock (_pendingPins)
        {
            if (pin.IsCompleted)
            {
                return;
            }

            _pendingPins.Add(pin);
        }

        _ = pin.ContinueWith(
            done =>
            {
                lock (_pendingPins)
                {
                    _pendingPins.Remove(done);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task PinLaterAsync(Func<State, bool> pin)
    {
        try
        {
            await MutateAsync(pin, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // Not pinned: the next evaluation of the tool tries again (and reading the file reports what is wrong).
        }
    }

    /// <summary>Tells where a tool stands without recording anything (a first-seen tool under trust-on-first-use is reported allowed but not pinned).</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="tool">The tool as the server describes it now.</param>
    /// <returns>The verdict.</returns>
    public ToolConsent Check(string serverId, Tool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return Judge(Current(), serverId, tool.Name, ComputeHash(tool), out _);
    }

    /// <summary>Returns the decision about a server, or <see langword="null"/>.</summary>
    /// <param name="serverId">The server id.</param>
    /// <returns>The decision.</returns>
    public ServerConsentEntry? GetServer(string serverId) => Current().Servers.GetValueOrDefault(serverId);

    /// <summary>Lists every recorded decision, ordered by server and tool.</summary>
    /// <returns>The server and tool decisions.</returns>
    public (IReadOnlyList<ServerConsentEntry> Servers, IReadOnlyList<ToolConsentEntry> Tools) List()
    {
        var state = Current();
        return ([.. state.Servers.Values.OrderBy(s => s.ServerId, StringComparer.Ordinal)],
                [.. state.Tools.Values.OrderBy(t => t.ServerId, StringComparer.Ordinal).ThenBy(t => t.ToolName, StringComparer.Ordinal)]);
    }

    /// <summary>Allows or denies a whole server. Allowing it clears a denial; its tools are still pinned one by one.</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="decision">The decision.</param>
    /// <param name="cancellationToken">Stops waiting for the file lock.</param>
    /// <returns>A task that completes when the decision is stored.</returns>
    public Task SetServerAsync(string serverId, ConsentDecision decision, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        return MutateAsync(
            s =>
            {
                s.Servers[serverId] = new ServerConsentEntry(serverId, decision, _time.GetUtcNow());
                return true;
            },
            cancellationToken);
    }

    /// <summary>Allows or denies one tool; allowing pins <paramref name="tool"/>'s current definition (or, without it, whatever definition is seen next).</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="toolName">The tool's own name.</param>
    /// <param name="decision">The decision.</param>
    /// <param name="tool">The definition to pin when allowing, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting for the file lock.</param>
    /// <returns>A task that completes when the decision is stored.</returns>
    public Task SetToolAsync(string serverId, string toolName, ConsentDecision decision, Tool? tool = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        ArgumentException.ThrowIfNullOrEmpty(toolName);
        var hash = tool is null ? null : ComputeHash(tool);
        return MutateAsync(
            s =>
            {
                s.Tools[(serverId, toolName)] = new ToolConsentEntry(serverId, toolName, decision, hash, _time.GetUtcNow(), "user");
                return true;
            },
            cancellationToken);
    }

    /// <summary>Forgets the decisions about a server and its tools (or one tool), so the policy applies again.</summary>
    /// <param name="serverId">The server id.</param>
    /// <param name="toolName">One tool, or <see langword="null"/> for the server and all its tools.</param>
    /// <param name="cancellationToken">Stops waiting for the file lock.</param>
    /// <returns>Whether anything was forgotten.</returns>
    public async Task<bool> ResetAsync(string serverId, string? toolName = null, CancellationToken cancellationToken = default)
    {
        var removed = false;
        await MutateAsync(s =>
        {
            if (toolName is null)
            {
                removed |= s.Servers.Remove(serverId);
                foreach (var key in s.Tools.Keys.Where(k => k.Server == serverId).ToList())
                {
                    removed |= s.Tools.Remove(key);
                }
            }
            else
            {
                removed |= s.Tools.Remove((serverId, toolName));
            }

            return removed;
        }, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    private ToolConsent Judge(State state, string serverId, string toolName, string hash, out bool pinNow)
    {
        pinNow = false;
        var server = state.Servers.GetValueOrDefault(serverId);
        if (server?.Decision == ConsentDecision.Deny)
        {
            return new ToolConsent(ToolConsentStatus.Denied, $"Server '{serverId}' is denied by the user. Allow it with 'mmcp consent allow {serverId}'.");
        }

        if (state.Tools.GetValueOrDefault((serverId, toolName)) is { } entry)
        {
            if (entry.Decision == ConsentDecision.Deny)
            {
                return new ToolConsent(ToolConsentStatus.Denied, $"Tool '{toolName}' of server '{serverId}' is denied by the user. Allow it with 'mmcp consent allow {serverId} {toolName}'.");
            }

            if (entry.PinnedHash is null)
            {
                pinNow = true;
                return new ToolConsent(ToolConsentStatus.Allowed, null);
            }

            if (string.Equals(entry.PinnedHash, hash, StringComparison.Ordinal))
            {
                return new ToolConsent(ToolConsentStatus.Allowed, null);
            }

            return new ToolConsent(
                ToolConsentStatus.Changed,
                $"Tool '{toolName}' of server '{serverId}' changed its definition (description, schema or annotations) since it was approved on {entry.DecidedAt.ToString("u", CultureInfo.InvariantCulture)}; it is held until you review it ('mmcp tools --server {serverId} --json') and approve it again with 'mmcp consent allow {serverId} {toolName}'.");
        }

        if (Policy == ConsentPolicy.TrustOnFirstUse || server?.Decision == ConsentDecision.Allow)
        {
            pinNow = true;
            return new ToolConsent(ToolConsentStatus.Allowed, null);
        }

        return new ToolConsent(ToolConsentStatus.Pending, $"Tool '{toolName}' of server '{serverId}' has not been approved yet. Approve it with 'mmcp consent allow {serverId} {toolName}' (or the whole server with 'mmcp consent allow {serverId}').");
    }

    private State Current()
    {
        var readAt = FileStamp.ReadTime;
        var stamp = PrivateFile.Stamp(Path);
        lock (_gate)
        {
            if (stamp == _stamp)
            {
                return _state;
            }
        }

        var state = Parse(PrivateFile.Read(Path));
        lock (_gate)
        {
            _state = state;
            _stamp = stamp.KeepFor(readAt);
            return state;
        }
    }

    private async Task MutateAsync(Func<State, bool> change, CancellationToken cancellationToken)
    {
        // The file lock (taken by PrivateFile) orders writers, in this process and others. The cache is only marked
        // stale: writers publishing their own states could finish in another order than they wrote.
        await PrivateFile.UpdateAsync(Path, text => Change(text, change), timeProvider: null, cancellationToken).ConfigureAwait(false);
        MarkStale();
    }

    private bool TryMutate(Func<State, bool> change)
    {
        if (!PrivateFile.TryUpdate(Path, text => Change(text, change)))
        {
            return false;
        }

        MarkStale();
        return true;
    }

    private static string? Change(string? text, Func<State, bool> change)
    {
        var state = Parse(text);
        return change(state) ? Serialize(state) : null;
    }

    private void MarkStale()
    {
        lock (_gate)
        {
            _stamp = FileStamp.Unread;
        }
    }

    private static State Parse(string? text)
    {
        var state = new State();
        if (string.IsNullOrWhiteSpace(text))
        {
            return state;
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The consent file is not valid JSON ({ex.Message}). Fix or delete it; every tool then goes back to the consent policy.", ex);
        }

        if (root?["servers"] is JsonObject servers)
        {
            foreach (var (id, value) in servers)
            {
                if (value is JsonObject o && ParseDecision(o["decision"]) is { } decision)
                {
                    state.Servers[id] = new ServerConsentEntry(id, decision, ParseTime(o["at"]));
                }
            }
        }

        if (root?["tools"] is JsonObject tools)
        {
            foreach (var (id, value) in tools)
            {
                if (value is not JsonObject perServer)
                {
                    continue;
                }

                foreach (var (name, entry) in perServer)
                {
                    if (entry is JsonObject o && ParseDecision(o["decision"]) is { } decision)
                    {
                        state.Tools[(id, name)] = new ToolConsentEntry(id, name, decision, o["hash"]?.GetValue<string>(), ParseTime(o["at"]), o["by"]?.GetValue<string>() ?? "user");
                    }
                }
            }
        }

        return state;
    }

    private static ConsentDecision? ParseDecision(JsonNode? node) => node?.GetValue<string>() switch
    {
        "allow" => ConsentDecision.Allow,
        "deny" => ConsentDecision.Deny,
        _ => null,
    };

    private static DateTimeOffset ParseTime(JsonNode? node) =>
        node?.GetValue<string>() is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.UnixEpoch;

    private static string Serialize(State state)
    {
        var servers = new JsonObject();
        foreach (var s in state.Servers.Values.OrderBy(s => s.ServerId, StringComparer.Ordinal))
        {
            servers[s.ServerId] = new JsonObject { ["decision"] = Name(s.Decision), ["at"] = s.DecidedAt.ToString("O", CultureInfo.InvariantCulture) };
        }

        var tools = new JsonObject();
        foreach (var group in state.Tools.Values.GroupBy(t => t.ServerId).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var perServer = new JsonObject();
            foreach (var t in group.OrderBy(t => t.ToolName, StringComparer.Ordinal))
            {
                perServer[t.ToolName] = new JsonObject
                {
                    ["decision"] = Name(t.Decision),
                    ["hash"] = t.PinnedHash,
                    ["at"] = t.DecidedAt.ToString("O", CultureInfo.InvariantCulture),
                    ["by"] = t.DecidedBy,
                };
            }

            tools[group.Key] = perServer;
        }

        var root = new JsonObject { ["version"] = FormatVersion, ["servers"] = servers, ["tools"] = tools };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

        static string Name(ConsentDecision d) => d == ConsentDecision.Allow ? "allow" : "deny";
    }

    private static string Canonical(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(node);
        return sb.ToString();

        void Write(JsonNode? n)
        {
            switch (n)
            {
                case null:
                    sb.Append("null");
                    break;
                case JsonObject o:
                    sb.Append('{');
                    var first = true;
                    foreach (var (key, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        if (value is null)
                        {
                            continue;
                        }

                        sb.Append(first ? string.Empty : ",").Append(JsonValue.Create(key).ToJsonString()).Append(':');
                        first = false;
                        Write(value);
                    }

                    sb.Append('}');
                    break;
                case JsonArray a:
                    sb.Append('[');
                    for (var i = 0; i < a.Count; i++)
                    {
                        sb.Append(i == 0 ? string.Empty : ",");
                        Write(a[i]);
                    }

                    sb.Append(']');
                    break;
                default:
                    sb.Append(n.ToJsonString());
                    break;
            }
        }
    }

    private sealed class State
    {
        public Dictionary<string, ServerConsentEntry> Servers { get; } = new(StringComparer.Ordinal);

        public Dictionary<(string Server, string Tool), ToolConsentEntry> Tools { get; } = [];
    }
}
