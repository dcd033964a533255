using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Atlas.Media.Diagnostics;
using Atlas.Shared.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Atlas.Media.Caching;

/// <summary>
/// Results cached by content hash + task + options + engine versions: an SQLite index (WAL) and one directory per
/// entry holding <c>result.json</c> and any artifacts (frames). Entries are written to a temporary directory and
/// renamed into place, so a crash leaves either the old state or the new entry. The least recently used entries are
/// evicted when <see cref="AtlasMediaOptions.CacheMaxBytes"/> or <see cref="AtlasMediaOptions.CacheMaxEntries"/> is exceeded.
/// A cache that cannot be read or written is logged and bypassed: results are still computed.
/// </summary>
internal sealed class ResultCache
{
    // Entry i upgrades the index from version i to i + 1 (SqliteSchema); never edit a shipped one: add one.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS entries (
            key TEXT PRIMARY KEY,
            task TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            dir TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            created INTEGER NOT NULL,
            last_access INTEGER NOT NULL,
            hits INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS entries_last_access ON entries(last_access);
        CREATE TABLE IF NOT EXISTS requesters (
            key TEXT NOT NULL,
            requester BLOB NOT NULL,
            PRIMARY KEY (key, requester)) WITHOUT ROWID;
        """,
    ];

    private const string ResultFile = "result.json";

    // The access stamp: the clock in milliseconds, but always past every stamp already given, so two accesses in the
    // same millisecond (or a clock set back) still order by recency and eviction never decides by a tie.
    private const string NextAccess = "MAX($now, (SELECT COALESCE(MAX(last_access), 0) + 1 FROM entries))";
    private readonly string _root;
    private readonly string _entries;
    private readonly string _connectionString;
    private readonly AtlasMediaOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _evictLock = new();
    private readonly SqliteSchema _schema;
    private bool _initialized;

    public ResultCache(AtlasMediaOptions options, TimeProvider time, ILogger<ResultCache> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _root = options.CacheDirectory ?? DefaultDirectory();
        _entries = Path.Combine(_root, "entries");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_root, "index.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        var root = _root;
        _schema = new SqliteSchema(Migrations, (found, known) =>
            $"The media cache in {root} has schema version {found}, newer than this atlas understands ({known}), so it is not used. "
            + "Run a newer atlas, or delete that directory (it is only a cache).")
        {
            BusyTimeoutMilliseconds = 10_000,
        };
    }

    public string Directory => _root;

    public bool Enabled => _options.CacheMaxBytes > 0 && _options.CacheMaxEntries > 0;

    public static string DefaultDirectory()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var baseDir = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
        return Path.Combine(baseDir, "atlas", "media");
    }

    public async Task<MediaResult?> TryGetAsync(string key, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return null;
        }

        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var update = connection.CreateCommand();
            update.CommandText = $"UPDATE entries SET last_access = {NextAccess}, hits = hits + 1 WHERE key = $key RETURNING dir";
            update.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            update.Parameters.AddWithValue("$key", key);
            if (await update.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not string dir)
            {
                return null;
            }

            var entryDir = Path.Combine(_entries, dir);
            var file = Path.Combine(entryDir, ResultFile);
            if (!File.Exists(file))
            {
                await DeleteRowAsync(connection, key, cancellationToken).ConfigureAwait(false);
                return null;
            }

            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 16 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var result = await JsonSerializer.DeserializeAsync(stream, MediaJsonContext.Default.MediaResult, cancellationToken).ConfigureAwait(false);
            return result is null ? null : result with { FromCache = true, ArtifactsDirectory = HasArtifacts(entryDir) ? entryDir : null };
        }
        catch (Exception ex) when (ex is SqliteException or SqliteSchemaException or IOException or JsonException or UnauthorizedAccessException)
        {
            Log.CacheFailed(_logger, ex, _root);
            return null;
        }
    }

    /// <summary>Records that <paramref name="requester"/> asked for <paramref name="key"/> (only the requester's SHA-256 is
    /// kept, dropped with the entry when it is evicted).</summary>
    /// <returns>True when this requester had asked for the key before.</returns>
    public async Task<bool> NoteRequesterAsync(string key, string requester, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return false;
        }

        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT OR IGNORE INTO requesters (key, requester) VALUES ($key, $requester)";
            insert.Parameters.AddWithValue("$key", key);
            insert.Parameters.AddWithValue("$requester", SHA256.HashData(Encoding.UTF8.GetBytes(requester)));
            return await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0;
        }
        catch (Exception ex) when (ex is SqliteException or SqliteSchemaException or IOException or UnauthorizedAccessException)
        {
            Log.CacheFailed(_logger, ex, _root);
            return false;
        }
    }

    /// <summary>Stores a result; files in <paramref name="artifactsDirectory"/> are moved into the entry.</summary>
    /// <returns>The result as stored, with <see cref="MediaResult.ArtifactsDirectory"/> pointing into the cache.</returns>
    public async Task<MediaResult> StoreAsync(string key, MediaResult result, string? artifactsDirectory, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return result;
        }

        try
        {
            System.IO.Directory.CreateDirectory(_entries);
            var dir = key[..2] + "/" + key;
            var finalDir = Path.Combine(_entries, dir);
            var tempDir = Path.Combine(_entries, ".tmp-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(tempDir);
            long size = 0;
            if (artifactsDirectory is not null && System.IO.Directory.Exists(artifactsDirectory))
            {
                foreach (var file in System.IO.Directory.EnumerateFiles(artifactsDirectory))
                {
                    var target = Path.Combine(tempDir, Path.GetFileName(file));
                    File.Move(file, target);
                    size += new FileInfo(target).Length;
                }
            }

            var json = JsonSerializer.SerializeToUtf8Bytes(result, MediaJsonContext.Default.MediaResult);
            await File.WriteAllBytesAsync(Path.Combine(tempDir, ResultFile), json, cancellationToken).ConfigureAwait(false);
            size += json.Length;
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(finalDir)!);
            if (System.IO.Directory.Exists(finalDir))
            {
                System.IO.Directory.Delete(finalDir, recursive: true);
            }

            System.IO.Directory.Move(tempDir, finalDir);

            await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
            {
                await using var insert = connection.CreateCommand();
                insert.CommandText = $"""
                    INSERT INTO entries (key, task, content_hash, dir, size_bytes, created, last_access, hits)
                    VALUES ($key, $task, $hash, $dir, $size, $now, {NextAccess}, 0)
                    ON CONFLICT(key) DO UPDATE SET dir = $dir, size_bytes = $size, created = $now, last_access = excluded.last_access
                    """;
                var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                insert.Parameters.AddWithValue("$key", key);
                insert.Parameters.AddWithValue("$task", result.Task.ToString());
                insert.Parameters.AddWithValue("$hash", result.ContentHash);
                insert.Parameters.AddWithValue("$dir", dir);
                insert.Parameters.AddWithValue("$size", size);
                insert.Parameters.AddWithValue("$now", now);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                Evict(connection);
            }

            return result with { ArtifactsDirectory = HasArtifacts(finalDir) ? finalDir : null };
        }
        catch (Exception ex) when (ex is SqliteException or SqliteSchemaException or IOException or UnauthorizedAccessException)
        {
            Log.CacheFailed(_logger, ex, _root);
            return result;
        }
    }

    public async Task<(int Entries, long Bytes)> GetStatsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM entries";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt32(0), reader.GetInt64(1));
    }

    private static bool HasArtifacts(string entryDir) =>
        System.IO.Directory.Exists(entryDir) && System.IO.Directory.EnumerateFiles(entryDir).Any(f => Path.GetFileName(f) != ResultFile);

    private void Evict(SqliteConnection connection)
    {
        var evicted = new List<(string Key, string Dir, long Size)>();
        lock (_evictLock)
        {
            using var stats = connection.CreateCommand();
            stats.CommandText = "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM entries";
            long count, bytes;
            using (var reader = stats.ExecuteReader())
            {
                reader.Read();
                count = reader.GetInt64(0);
                bytes = reader.GetInt64(1);
            }

            if (count <= _options.CacheMaxEntries && bytes <= _options.CacheMaxBytes)
            {
                return;
            }

            using var oldest = connection.CreateCommand();
            oldest.CommandText = "SELECT key, dir, size_bytes FROM entries ORDER BY last_access ASC, created ASC";
            using (var reader = oldest.ExecuteReader())
            {
                while ((count > _options.CacheMaxEntries || bytes > _options.CacheMaxBytes) && reader.Read())
                {
                    var size = reader.GetInt64(2);
                    evicted.Add((reader.GetString(0), reader.GetString(1), size));
                    count--;
                    bytes -= size;
                }
            }

            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM entries WHERE key = $key; DELETE FROM requesters WHERE key = $key";
            var p = delete.Parameters.Add("$key", SqliteType.Text);
            foreach (var e in evicted)
            {
                p.Value = e.Key;
                delete.ExecuteNonQuery();
            }
        }

        foreach (var e in evicted)
        {
            var path = Path.Combine(_entries, e.Dir);
            if (System.IO.Directory.Exists(path))
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
        }

        if (evicted.Count > 0)
        {
            MediaTelemetry.CacheEvictions.Add(evicted.Count);
            Log.CacheEvicted(_logger, evicted.Count, evicted.Sum(e => e.Size));
        }
    }

    private static async Task DeleteRowAsync(SqliteConnection connection, string key, CancellationToken cancellationToken)
    {
        await using var delete = connection.CreateCommand();
        delete.CommandText = "DELETE FROM entries WHERE key = $key; DELETE FROM requesters WHERE key = $key";
        delete.Parameters.AddWithValue("$key", key);
        await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a connection to the index (pragmas set), bringing the index to the current schema on first use.</summary>
    internal async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_initialized)
        {
            System.IO.Directory.CreateDirectory(_root);
        }

        var connection = await _schema.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        if (!_initialized)
        {
            try
            {
                await _schema.MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _initialized = true;
        }

        return connection;
    }
}
