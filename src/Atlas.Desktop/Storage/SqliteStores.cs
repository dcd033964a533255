using Atlas.Desktop.Hosting;
using Microsoft.Data.Sqlite;

namespace Atlas.Desktop.Storage;

/// <summary>SQLite implementations of the narrow store interfaces (swap for another provider behind the same interfaces).</summary>
internal sealed class SqliteStores : IDeviceStore, ITicketStore, ISessionStore, IAuditLog, IUploadStore
{
    private readonly AtlasDatabase _database;
    private readonly TimeProvider _time;

    public SqliteStores(AtlasDatabase database, AtlasTime time)
    {
        _database = database;
        _time = time.Provider;
    }

    // Devices

    public Task AddAsync(DeviceRecord device, CancellationToken cancellationToken) => ExecuteAsync(
        """
        INSERT INTO devices (id, name, platform, status, credential_hash, check_code, permissions, quota_bytes, created_at,
                             approved_at, last_seen_at, last_address)
        VALUES ($id, $name, $platform, $status, $hash, $code, $permissions, $quota, $created, $approved, NULL, $address)
        """,
        cancellationToken,
        ("$id", device.Id), ("$name", device.Name), ("$platform", device.Platform), ("$status", device.Status),
        ("$hash", device.CredentialHash), ("$code", device.CheckCode), ("$permissions", string.Join(' ', device.Permissions)),
        ("$quota", device.QuotaBytes), ("$created", Ms(device.CreatedAt)), ("$approved", Ms(device.ApprovedAt)),
        ("$address", device.LastAddress));

    public async Task<DeviceRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var list = await QueryDevicesAsync("WHERE id = $id", cancellationToken, ("$id", id)).ConfigureAwait(false);
        return list.Count == 0 ? null : list[0];
    }

    public Task<IReadOnlyList<DeviceRecord>> ListAsync(CancellationToken cancellationToken) =>
        QueryDevicesAsync("ORDER BY created_at, id", cancellationToken);

    public async Task<bool> ApproveAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE devices SET status = 'active', approved_at = $at WHERE id = $id AND status = 'pending'",
            cancellationToken, ("$id", id), ("$at", Ms(at))).ConfigureAwait(false) == 1;

    async Task<bool> IDeviceStore.DeleteAsync(string id, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM devices WHERE id = $id", cancellationToken, ("$id", id)).ConfigureAwait(false) == 1;

    public async Task<bool> UpdatePermissionsAsync(string id, IReadOnlyList<string> permissions, long quotaBytes,
        CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE devices SET permissions = $p, quota_bytes = $q WHERE id = $id", cancellationToken,
            ("$id", id), ("$p", string.Join(' ', permissions)), ("$q", quotaBytes)).ConfigureAwait(false) == 1;

    public Task TouchAsync(string id, DateTimeOffset at, string? address, CancellationToken cancellationToken) => ExecuteAsync(
        "UPDATE devices SET last_seen_at = $at, last_address = coalesce($address, last_address) WHERE id = $id",
        cancellationToken, ("$id", id), ("$at", Ms(at)), ("$address", address));

    private async Task<IReadOnlyList<DeviceRecord>> QueryDevicesAsync(string where, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "SELECT id, name, platform, status, credential_hash, check_code, permissions, quota_bytes, created_at, approved_at, "
            + "last_seen_at, last_address FROM devices " + where, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<DeviceRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new DeviceRecord(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                (byte[])reader.GetValue(4), reader.GetString(5),
                reader.GetString(6).Split(' ', StringSplitOptions.RemoveEmptyEntries), reader.GetInt64(7),
                FromMs(reader.GetInt64(8)), OptionalTime(reader, 9), OptionalTime(reader, 10),
                reader.IsDBNull(11) ? null : reader.GetString(11)));
        }

        return result;
    }

    // Tickets

    Task ITicketStore.AddAsync(byte[] hash, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        ExecuteAsync("INSERT INTO tickets (hash, created_at, expires_at) VALUES ($h, $c, $e)", cancellationToken,
            ("$h", hash), ("$c", Ms(createdAt)), ("$e", Ms(expiresAt)));

    public async Task<bool> ConsumeAsync(byte[] hash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // One statement: the row is deleted by exactly one redemption, however many race. Expired rows are purged too.
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "DELETE FROM tickets WHERE hash = $h RETURNING expires_at", ("$h", hash));
        var expires = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        await using var purge = Command(connection, "DELETE FROM tickets WHERE expires_at <= $now", ("$now", Ms(now)));
        await purge.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return expires is long expiresAt && expiresAt > Ms(now);
    }

    public Task<int> DeleteAllAsync(CancellationToken cancellationToken) => ExecuteAsync("DELETE FROM tickets", cancellationToken);

    // Sessions

    Task ISessionStore.AddAsync(byte[] hash, string deviceId, DateTimeOffset createdAt, DateTimeOffset expiresAt,
        CancellationToken cancellationToken) =>
        ExecuteAsync("INSERT INTO sessions (hash, device_id, created_at, expires_at) VALUES ($h, $d, $c, $e)", cancellationToken,
            ("$h", hash), ("$d", deviceId), ("$c", Ms(createdAt)), ("$e", Ms(expiresAt)));

    public async Task<(string DeviceId, DateTimeOffset ExpiresAt)?> FindAsync(byte[] hash, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "SELECT device_id, expires_at FROM sessions WHERE hash = $h", ("$h", hash));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? (reader.GetString(0), FromMs(reader.GetInt64(1)))
            : null;
    }

    public Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM sessions WHERE expires_at <= $now", cancellationToken, ("$now", Ms(now)));

    // Audit

    public Task WriteAsync(string @event, string? deviceId, string? address, string? detail, CancellationToken cancellationToken) =>
        ExecuteAsync("INSERT INTO audit (at, event, device_id, address, detail) VALUES ($at, $e, $d, $a, $x)", cancellationToken,
            ("$at", Ms(_time.GetUtcNow())), ("$e", @event), ("$d", deviceId), ("$a", address), ("$x", detail));

    public async Task<IReadOnlyList<AuditEntry>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "SELECT id, at, event, device_id, address, detail FROM audit ORDER BY id DESC LIMIT $n", ("$n", count));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<AuditEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new AuditEntry(reader.GetInt64(0), FromMs(reader.GetInt64(1)), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return result;
    }

    // Uploads

    public Task AddAsync(UploadRecord upload, CancellationToken cancellationToken) => ExecuteAsync(
        """
        INSERT INTO uploads (id, device_id, path, size, received, overwrite, created_at, expires_at)
        VALUES ($id, $d, $p, $s, $r, $o, $c, $e)
        """,
        cancellationToken, ("$id", upload.Id), ("$d", upload.DeviceId), ("$p", upload.Path), ("$s", upload.Size),
        ("$r", upload.Received), ("$o", upload.Overwrite ? 1 : 0), ("$c", Ms(upload.CreatedAt)), ("$e", Ms(upload.ExpiresAt)));

    public async Task<UploadRecord?> GetAsync(string deviceId, string id, CancellationToken cancellationToken)
    {
        var list = await QueryUploadsAsync("WHERE id = $id AND device_id = $d", cancellationToken, ("$id", id), ("$d", deviceId))
            .ConfigureAwait(false);
        return list.Count == 0 ? null : list[0];
    }

    public Task SetReceivedAsync(string id, long received, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE uploads SET received = $r WHERE id = $id", cancellationToken, ("$id", id), ("$r", received));

    Task IUploadStore.DeleteAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM uploads WHERE id = $id", cancellationToken, ("$id", id));

    public Task<IReadOnlyList<UploadRecord>> ExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        QueryUploadsAsync("WHERE expires_at <= $now", cancellationToken, ("$now", Ms(now)));

    public Task<IReadOnlyList<UploadRecord>> ForDeviceAsync(string deviceId, CancellationToken cancellationToken) =>
        QueryUploadsAsync("WHERE device_id = $d", cancellationToken, ("$d", deviceId));

    private async Task<IReadOnlyList<UploadRecord>> QueryUploadsAsync(string where, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "SELECT id, device_id, path, size, received, overwrite, created_at, expires_at FROM uploads " + where, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<UploadRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new UploadRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                reader.GetInt64(4), reader.GetInt64(5) != 0, FromMs(reader.GetInt64(6)), FromMs(reader.GetInt64(7))));
        }

        return result;
    }

    // Helpers

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await Sql.ExecuteAsync(connection, null, sql, cancellationToken, parameters).ConfigureAwait(false);
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Sql.Command(connection, sql, parameters);

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static long? Ms(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromMs(long ms) => Sql.FromMs(ms);

    private static DateTimeOffset? OptionalTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : FromMs(reader.GetInt64(ordinal));
}
