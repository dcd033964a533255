namespace Atlas.Desktop.Storage;

/// <summary>A paired (or pending) device as stored.</summary>
internal sealed record DeviceRecord(
    string Id,
    string Name,
    string Platform,
    string Status,
    byte[] CredentialHash,
    string CheckCode,
    IReadOnlyList<string> Permissions,
    long QuotaBytes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ApprovedAt,
    DateTimeOffset? LastSeenAt,
    string? LastAddress)
{
    public const string Pending = "pending";
    public const string Active = "active";
}

/// <summary>A security event.</summary>
internal sealed record AuditEntry(long Id, DateTimeOffset At, string Event, string? DeviceId, string? Address, string? Detail);

/// <summary>A resumable upload in progress.</summary>
internal sealed record UploadRecord(string Id, string DeviceId, string Path, long Size, long Received, bool Overwrite,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

internal interface IDeviceStore
{
    Task AddAsync(DeviceRecord device, CancellationToken cancellationToken);

    Task<DeviceRecord?> GetAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<DeviceRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Moves a pending device to active; false when it was not pending.</summary>
    Task<bool> ApproveAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Deletes the device with its sessions and uploads; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    Task<bool> UpdatePermissionsAsync(string id, IReadOnlyList<string> permissions, long quotaBytes, CancellationToken cancellationToken);

    Task TouchAsync(string id, DateTimeOffset at, string? address, CancellationToken cancellationToken);
}

internal interface ITicketStore
{
    Task AddAsync(byte[] hash, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Atomically deletes an unexpired ticket; exactly one caller gets true for a given ticket.</summary>
    Task<bool> ConsumeAsync(byte[] hash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Burns every outstanding ticket (pairing window closed).</summary>
    Task<int> DeleteAllAsync(CancellationToken cancellationToken);
}

internal interface ISessionStore
{
    Task AddAsync(byte[] hash, string deviceId, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    Task<(string DeviceId, DateTimeOffset ExpiresAt)?> FindAsync(byte[] hash, CancellationToken cancellationToken);

    Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

internal interface IAuditLog
{
    Task WriteAsync(string @event, string? deviceId, string? address, string? detail, CancellationToken cancellationToken);

    Task<IReadOnlyList<AuditEntry>> RecentAsync(int count, CancellationToken cancellationToken);
}

internal interface IUploadStore
{
    Task AddAsync(UploadRecord upload, CancellationToken cancellationToken);

    Task<UploadRecord?> GetAsync(string deviceId, string id, CancellationToken cancellationToken);

    Task SetReceivedAsync(string id, long received, CancellationToken cancellationToken);

    Task DeleteAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<UploadRecord>> ExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The device's upload sessions, expired ones included.</summary>
    Task<IReadOnlyList<UploadRecord>> ForDeviceAsync(string deviceId, CancellationToken cancellationToken);
}
