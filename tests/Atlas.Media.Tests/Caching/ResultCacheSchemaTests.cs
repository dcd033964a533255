using Atlas.Media.Caching;
using Atlas.Shared.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atlas.Media.Tests.Caching;

/// <summary>The media cache index on the shared schema helper: it now reads the <c>user_version</c> it writes.</summary>
public sealed class ResultCacheSchemaTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "atmc-" + Guid.NewGuid().ToString("N")[..10]);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>A new index is migrated once to version 1 and every connection has the pragmas; reopening keeps rows.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task OpenAsync_NewIndex_MigratesOnceAndSetsPragmas()
    {
        await using (var connection = await NewCache().OpenAsync(Ct))
        {
            Assert.Equal(("wal", 1L, 10000L, 1L, 1L), (
                (string)(await Scalar(connection, "PRAGMA journal_mode"))!,
                (long)(await Scalar(connection, "PRAGMA foreign_keys"))!,
                (long)(await Scalar(connection, "PRAGMA busy_timeout"))!,
                (long)(await Scalar(connection, "PRAGMA synchronous"))!,
                (long)(await Scalar(connection, "PRAGMA user_version"))!));
            await Scalar(connection, "INSERT INTO entries (key, task, content_hash, dir, size_bytes, created, last_access) VALUES ('k', 't', 'h', 'd', 1, 1, 1)");
        }

        await using var reopened = await NewCache().OpenAsync(Ct);
        Assert.Equal(1L, await Scalar(reopened, "PRAGMA user_version"));
        Assert.Equal(1L, await Scalar(reopened, "SELECT count(*) FROM entries"));
    }

    /// <summary>An index from a newer atlas is refused with a message that says what to do, and lookups bypass the cache.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task OpenAsync_NewerIndex_IsRefusedAndTheCacheBypassed()
    {
        Directory.CreateDirectory(_dir);
        await using (var raw = new SqliteConnection($"Data Source={Path.Combine(_dir, "index.db")};Pooling=False"))
        {
            await raw.OpenAsync(Ct);
            await Scalar(raw, "PRAGMA user_version = 99");
        }

        var cache = NewCache();
        var error = await Assert.ThrowsAsync<SqliteSchemaException>(() => cache.OpenAsync(Ct));

        Assert.Contains("has schema version 99, newer than this atlas understands (1)", error.Message, StringComparison.Ordinal);
        Assert.Contains("delete that directory", error.Message, StringComparison.Ordinal);
        Assert.Null(await cache.TryGetAsync("k", Ct));
    }

    private ResultCache NewCache() =>
        new(new AtlasMediaOptions { CacheDirectory = _dir }, TimeProvider.System, NullLogger<ResultCache>.Instance);

    private static async Task<object?> Scalar(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }
}
