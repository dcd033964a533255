using Atlas.Shared.Sqlite;
using Microsoft.Data.Sqlite;

namespace Atlas.Client.Tests.Offline;

/// <summary>The schema helper every SQLite store shares (src/Shared/Sqlite): ordered migrations applied once, a newer
/// file refused unchanged, and the pragmas on every connection.</summary>
public sealed class SqliteSchemaTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "atsq-" + Guid.NewGuid().ToString("N")[..10]);

    private static readonly SqliteSchema Schema = new(
        ["CREATE TABLE runs (n INTEGER); INSERT INTO runs VALUES (1);", "INSERT INTO runs VALUES (2);"],
        (found, known) => $"schema {found} is newer than {known}; use a newer build")
    {
        BusyTimeoutMilliseconds = 1234,
    };

    public SqliteSchemaTests() => Directory.CreateDirectory(_dir);

    private string ConnectionString => new SqliteConnectionStringBuilder { DataSource = Path.Combine(_dir, "s.db"), Pooling = false }.ToString();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Each migration runs exactly once, in order, however often the file is migrated.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task Migrate_Twice_RunsEachMigrationOnce()
    {
        await using (var first = await Schema.OpenAsync(ConnectionString, Ct))
        {
            Assert.Equal(0, await Schema.MigrateAsync(first, Ct));
        }

        await using var second = await Schema.OpenAsync(ConnectionString, Ct);
        Assert.Equal(2, Schema.Migrate(second));

        Assert.Equal("1,2", await Scalar(second, "SELECT group_concat(n) FROM (SELECT n FROM runs ORDER BY n)"));
        Assert.Equal(2L, await Scalar(second, "PRAGMA user_version"));
    }

    /// <summary>A file of a newer version is refused with the store's message and left as it was.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task Migrate_NewerFile_IsRefusedWithItsMessageAndUnchanged()
    {
        await using var connection = await Schema.OpenAsync(ConnectionString, Ct);
        await Scalar(connection, "PRAGMA user_version = 7");

        var error = await Assert.ThrowsAsync<SqliteSchemaException>(() => Schema.MigrateAsync(connection, Ct));

        Assert.Equal("schema 7 is newer than 2; use a newer build", error.Message);
        Assert.Equal(7L, await Scalar(connection, "PRAGMA user_version"));
        Assert.Equal(0L, await Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE name = 'runs'"));
    }

    /// <summary>Every connection gets foreign keys, the synchronous level and the busy timeout; migrating sets WAL.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task Open_EveryConnection_GetsThePragmas()
    {
        await using (var first = await Schema.OpenAsync(ConnectionString, Ct))
        {
            await Schema.MigrateAsync(first, Ct);
        }

        using var connection = Schema.Open(ConnectionString);
        Assert.Equal(("wal", 1L, 1234L, 1L), (
            (string)(await Scalar(connection, "PRAGMA journal_mode"))!,
            (long)(await Scalar(connection, "PRAGMA foreign_keys"))!,
            (long)(await Scalar(connection, "PRAGMA busy_timeout"))!,
            (long)(await Scalar(connection, "PRAGMA synchronous"))!));
    }

    private static async Task<object?> Scalar(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }
}
