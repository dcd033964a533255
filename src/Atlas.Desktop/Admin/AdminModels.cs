using Atlas.Desktop.Storage;

namespace Atlas.Desktop.Admin;

internal sealed record DesktopState(
    string Name,
    string Fingerprint,
    string DisplayFingerprint,
    bool SelfSigned,
    IReadOnlyList<string> Urls,
    string DataDirectory,
    PairingView Pairing,
    IReadOnlyList<DeviceView> Devices,
    int Connections,
    IReadOnlyList<AuditEntry> Events);

internal sealed record PairingView(bool Closed, int RecentFailures, string? Url, DateTimeOffset? ExpiresAt, string Fingerprint, string Approval);

internal sealed record DeviceView(
    string Id,
    string Name,
    string Platform,
    string Status,
    string? CheckCode,
    IReadOnlyList<string> Permissions,
    long QuotaBytes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ApprovedAt,
    DateTimeOffset? LastSeenAt,
    string? LastAddress,
    int Connections);

internal sealed record PermissionsChange(List<string>? Permissions, long? QuotaBytes);

internal sealed record AdminLogin(string? Code);

internal sealed record AdminLink(string Url);

internal sealed record RevokeResult(string DeviceId, int ClosedSockets);

internal sealed record PairOutput(string Url, DateTimeOffset ExpiresAt, string Fingerprint);

/// <summary>Source-generated JSON for the admin UI's MCP server and media job views.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ServersView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ServerToolsView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ConsentChange))]
[System.Text.Json.Serialization.JsonSerializable(typeof(SignInAttemptView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(SignOutView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(MediaJobsView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(MediaJobView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(LlmView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Diagnostics.LiveMetricsView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class AdminJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

internal sealed record ServersView(string ConsentFile, string Policy, IReadOnlyList<ServerView> Servers, IReadOnlyList<DiagnosticView> Diagnostics);

internal sealed record ServerView(
    string Id,
    string Name,
    string Description,
    string Version,
    TransportView Transport,
    ProvenanceView Provenance,
    IReadOnlyList<ProvenanceView> Shadowed,
    string State,
    int ConsecutiveFailures,
    FailureView? LastError,
    DateTimeOffset? RetryAt,
    string? Consent,
    int ToolCount,
    ConsentCounts Tools,
    string? ListSource,
    FailureView? ListError,
    SignInView? SignIn = null,
    string? ShadowedBy = null,
    IReadOnlyList<string>? Aliases = null);

internal sealed record TransportView(string Type, string Summary);

internal sealed record ProvenanceView(string Kind, string Label, string Location, string? Key);

internal sealed record FailureView(string Code, string Message, DateTimeOffset At);

internal sealed record DiagnosticView(string File, string Field, string Message, string Severity);

internal sealed record ConsentCounts(int Allowed, int Denied, int Changed, int Pending);

internal sealed record ServerToolsView(string ServerId, string? Consent, string Source, FailureView? Failure, IReadOnlyList<ToolView> Tools);

internal sealed record ToolView(
    string Name,
    string ExposedName,
    string? Title,
    string? Description,
    AnnotationsView? Annotations,
    string Hash,
    ToolConsentView Consent,
    System.Text.Json.JsonElement InputSchema);

internal sealed record AnnotationsView(string? Title, bool? ReadOnly, bool? Destructive, bool? Idempotent, bool? OpenWorld);

internal sealed record ToolConsentView(string Status, string? Message, string? Decision, string? PinnedHash, DateTimeOffset? DecidedAt, string? DecidedBy);

internal sealed record ConsentChange(string? Tool, string? Decision);

internal sealed record MediaJobsView(IReadOnlyList<MediaJobView> Running, IReadOnlyList<MediaJobView> Queued, IReadOnlyList<MediaJobView> Recent, MediaCacheView Cache);

internal sealed record MediaJobView(
    string Id,
    string DeviceId,
    string? DeviceName,
    string Task,
    string File,
    string Status,
    string Stage,
    double? Fraction,
    string? Message,
    DateTimeOffset StartedAt,
    double? DurationSeconds,
    bool? FromCache,
    string? Error);

internal sealed record MediaCacheView(string Directory, int Files, long Bytes);

/// <summary>The LLM card: configured or not (and how to fix it), provider, endpoint (no query or user info), default
/// model, the last failed answer, and spend. <see cref="LlmSpendView.Cost"/> is null when no answer reported a cost.</summary>
internal sealed record LlmView(
    bool Configured,
    string Provider,
    string Endpoint,
    string Model,
    string? Hint,
    LlmErrorView? LastError,
    DateTimeOffset? LastAnswerAt,
    LlmSpendView Today,
    LlmSpendView Total);

internal sealed record LlmErrorView(string Code, string Message, DateTimeOffset At, string? Model);

internal sealed record LlmSpendView(int Answers, long Tokens, double? Cost);
