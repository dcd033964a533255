using Atlas.Shared.Sqlite;
using Microsoft.Data.Sqlite;

namespace Atlas.Desktop.Storage;

/// <summary>The desktop's SQLite database (WAL) with versioned migrations (<see cref="SqliteSchema"/>).</summary>
/// <remarks>Each operation opens a pooled connection; SQLite serializes writers, which the stores rely on for atomic
/// consume-once updates (<c>DELETE … RETURNING</c>).</remarks>
internal sealed class AtlasDatabase
{
    // Each entry upgrades the schema from version (index) to (index + 1). Never edit a shipped migration: add one.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            platform TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'active')),
            credential_hash BLOB NOT NULL,
            check_code TEXT NOT NULL,
            permissions TEXT NOT NULL,
            quota_bytes INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            approved_at INTEGER,
            last_seen_at INTEGER,
            last_address TEXT
        );
        CREATE TABLE tickets (
            hash BLOB PRIMARY KEY,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE sessions (
            hash BLOB PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX sessions_device ON sessions(device_id);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            event TEXT NOT NULL,
            device_id TEXT,
            address TEXT,
            detail TEXT
        );
        CREATE TABLE uploads (
            id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            size INTEGER NOT NULL,
            received INTEGER NOT NULL,
            overwrite INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        );
        """,
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX conversations_device ON conversations(device_id, updated_at);
        CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('streaming', 'done', 'error', 'cancelled', 'interrupted')),
            request_id TEXT,
            attachments TEXT,
            tools TEXT,
            model TEXT,
            finish_reason TEXT,
            error_code TEXT,
            error_message TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            total_tokens INTEGER,
            cost TEXT,
            generation_ids TEXT,
            last_seq INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            completed_at INTEGER
        );
        CREATE INDEX messages_conversation ON messages(conversation_id);
        CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';
        CREATE TABLE chat_requests (
            device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
            request_id TEXT NOT NULL,
            request_hash BLOB NOT NULL,
            message_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (device_id, request_id)
        ) WITHOUT ROWID;
        """,
        """
        CREATE INDEX uploads_device ON uploads(device_id);
        """,
    ];

    private readonly SqliteSchema _schema;
    private readonly string _connectionString;

    public AtlasDatabase(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        Path = path;
        _schema = new SqliteSchema(Migrations, (found, known) =>
            $"The database {path} has schema version {found}, newer than this atlas understands ({known}). "
            + "Run a newer atlas, or point --data-dir at another directory.");
    }

    public string Path { get; }

    public static int SchemaVersion => Migrations.Length;

    /// <summary>The migrations in order (entry <c>i</c> upgrades version <c>i</c> to <c>i + 1</c>), for tests that build
    /// a database of an earlier version.</summary>
    internal static IReadOnlyList<string> MigrationScripts => Migrations;

    public void Migrate()
    {
        SqliteSchema.CreatePrivate(Path);
        using var connection = Open();
        _schema.Migrate(connection);
    }

    public SqliteConnection Open() => _schema.Open(_connectionString);

    public Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken) => _schema.OpenAsync(_connectionString, cancellationToken);
}
