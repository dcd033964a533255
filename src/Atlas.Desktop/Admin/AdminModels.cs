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
