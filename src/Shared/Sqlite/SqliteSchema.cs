using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Atlas.Shared.Sqlite;

/// <summary>A database file written with a newer schema than this code knows; it is refused, never changed.</summary>
internal sealed class SqliteSchemaException : InvalidOperationException
{
    public SqliteSchemaException(string message)
        : base(message)
    {
    }
}

/// <summary>The one storage habit of every SQLite file the project writes (compiled into each store's assembly): an
/// ordered list of migrations whose count is the schema version kept in <c>PRAGMA user_version</c>, applied once in
/// one transaction; a file with a newer version refused with a message that says what to do; WAL set on the file;
/// and the same pragmas (foreign keys, synchronous, busy timeout) on every connection as it opens.</summary>
/// <remarks>Never edit a shipped migration: add one.</remarks>
internal sealed class SqliteSchema
{
    private readonly IReadOnlyList<string> _migrations;
    private readonly Func<int, int, string> _newerMessage;

    /// <param name="migrations">Entry <c>i</c> upgrades the schema from version <c>i</c> to <c>i + 1</c>.</param>
    /// <param name="newerMessage">The refusal for a file of a newer version: (found, known) → what to do.</param>
    public SqliteSchema(IReadOnlyList<string> migrations, Func<int, int, string> newerMessage)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        ArgumentNullException.ThrowIfNull(newerMessage);
        _migrations = migrations;
        _newerMessage = newerMessage;
    }

    /// <summary>The version this code writes (the number of migrations).</summary>
    public int Version => _migrations.Count;

    /// <summary>How long a connection waits for another writer, in milliseconds.</summary>
    public int BusyTimeoutMilliseconds { get; init; } = 30_000;

    /// <summary><c>NORMAL</c> (safe with WAL, may lose the last commits on power loss) or <c>FULL</c>.</summary>
    public string Synchronous { get; init; } = "NORMAL";

    /// <summary>The pragmas every connection gets as it opens.</summary>
    public string ConnectionPragmas => string.Create(CultureInfo.InvariantCulture,
        $"PRAGMA foreign_keys = ON; PRAGMA synchronous = {Synchronous}; PRAGMA busy_timeout = {BusyTimeoutMilliseconds};");

    /// <summary>Creates <paramref name="path"/> readable by the current user only (0600) when it is missing, before
    /// SQLite opens it; SQLite gives its <c>-wal</c> and <c>-shm</c> files the same mode.</summary>
    public static void CreatePrivate(string path)
    {
        if (File.Exists(path) || OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }).Dispose();
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another opener created it first.
        }
    }

    /// <summary>Opens a connection with the pragmas set.</summary>
    public SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using var pragma = connection.CreateCommand();
            pragma.CommandText = ConnectionPragmas;
            pragma.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens a connection with the pragmas set.</summary>
    public async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = ConnectionPragmas;
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Brings the file to <see cref="Version"/>: WAL on, then the missing migrations and the new version in one
    /// transaction (nothing when it is current).</summary>
    /// <returns>The version the file had.</returns>
    /// <exception cref="SqliteSchemaException">The file has a newer schema than this code knows.</exception>
    public int Migrate(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }

        using var transaction = connection.BeginTransaction();
        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(read.ExecuteScalar(), CultureInfo.InvariantCulture);
        Check(version);
        for (var v = version; v < _migrations.Count; v++)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = MigrationSql(v);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
        return version;
    }

    /// <inheritdoc cref="Migrate"/>
    public async Task<int> MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var read = connection.CreateCommand();
        read.Transaction = (SqliteTransaction)transaction;
        read.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        Check(version);
        for (var v = version; v < _migrations.Count; v++)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = (SqliteTransaction)transaction;
            command.CommandText = MigrationSql(v);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return version;
    }

    private void Check(int version)
    {
        if (version > _migrations.Count)
        {
            throw new SqliteSchemaException(_newerMessage(version, _migrations.Count));
        }
    }

    private string MigrationSql(int from) =>
        string.Create(CultureInfo.InvariantCulture, $"{_migrations[from]}\nPRAGMA user_version = {from + 1};");
}
