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
