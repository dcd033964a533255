using Atlas.Desktop.Storage;
using Microsoft.Data.Sqlite;

namespace Atlas.Desktop.Tests;

/// <summary>The desktop database on the shared schema helper: migrations once, a newer file refused, pragmas on every
/// connection.</summary>
public sealed class AtlasDatabaseSchemaTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "atdb-" + Guid.NewGuid().ToString("N")[..10]);

    public AtlasDatabaseSchemaTests() => Directory.CreateDirectory(_dir);

    private string DbPath => Path.Combine(_dir, "atlas.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Migrating a current database again runs nothing: the version and the rows stay.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public void Migrate_CurrentDatabase_RunsNoMigrationAgain()
    {
        var database = new AtlasDatabase(DbPath);
        database.Migrate();
        using (var connection = database.Open())
        {
            Scalar(connection, "INSERT INTO audit (at, event) VALUES (1, 'kept')");
        }

        new AtlasDatabase(DbPath).Migrate();

        using var reopened = database.Open();
        Assert.Equal((long)AtlasDatabase.SchemaVersion, Scalar(reopened, "PRAGMA user_version"));
        Assert.Equal("kept", Scalar(reopened, "SELECT event FROM audit"));
    }

    /// <summary>A database of the previous version (uploads without an index on the device) migrates to the current one:
    /// its rows stay, and revoking or listing a device's uploads uses the new index instead of scanning the table.</summary>
    [Fact]
    [Trait("Issue8", "uploads-index")]
    public void Migrate_PreviousVersionDatabase_AddsTheUploadsDeviceIndexAndKeepsRows()
    {
        var previous = AtlasDatabase.SchemaVersion - 1;
        using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString()))
        {
            old.Open();
            foreach (var migration in AtlasDatabase.MigrationScripts.Take(previous))
            {
                Scalar(old, migration);
            }

            Scalar(old, $"PRAGMA user_version = {previous}");
            Scalar(old, "INSERT INTO devices (id, name, platform, status, credential_hash, check_code, permissions, quota_bytes, created_at) VALUES ('d1', 'Phone', 'android', 'active', x'00', '000000', '[]', 0, 1)");
            Scalar(old, "INSERT INTO uploads (id, device_id, path, size, received, overwrite, created_at, expires_at) VALUES ('u1', 'd1', 'a.txt', 3, 0, 0, 1, 2)");
        }

        new AtlasDatabase(DbPath).Migrate();

        using var migrated = new AtlasDatabase(DbPath).Open();
        Assert.Equal((long)AtlasDatabase.SchemaVersion, Scalar(migrated, "PRAGMA user_version"));
        Assert.Equal("u1", Scalar(migrated, "SELECT id FROM uploads WHERE device_id = 'd1'"));
        Assert.Equal("device_id", Scalar(migrated, "SELECT name FROM pragma_index_info('uploads_device')"));
        using var plan = migrated.CreateCommand();
        plan.CommandText = "EXPLAIN QUERY PLAN SELECT id FROM uploads WHERE device_id = 'd1'";
        using var reader = plan.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Contains("uploads_device", reader.GetString(3), StringComparison.Ordinal);
    }

    /// <summary>A database from a newer atlas is refused with a message that names it and says what to do.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public void Migrate_NewerDatabase_IsRefusedWithAClearMessage()
    {
        var database = new AtlasDatabase(DbPath);
        database.Migrate();
        using (var connection = database.Open())
        {
            Scalar(connection, "PRAGMA user_version = 99");
        }

        var error = Assert.ThrowsAny<InvalidOperationException>(database.Migrate);

        Assert.Contains($"The database {DbPath} has schema version 99, newer than this atlas understands", error.Message, StringComparison.Ordinal);
        Assert.Contains("--data-dir", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Every connection has foreign keys on, synchronous NORMAL and a 30 s busy timeout; the file is WAL.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task Open_AnyConnection_HasWalForeignKeysAndBusyTimeout()
    {
        var database = new AtlasDatabase(DbPath);
        database.Migrate();

        await using var connection = await database.OpenAsync(TestContext.Current.CancellationToken);

        Assert.Equal(("wal", 1L, 30000L, 1L), (
            (string)Scalar(connection, "PRAGMA journal_mode")!,
            (long)Scalar(connection, "PRAGMA foreign_keys")!,
            (long)Scalar(connection, "PRAGMA busy_timeout")!,
            (long)Scalar(connection, "PRAGMA synchronous")!));
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
