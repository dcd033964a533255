using System.Globalization;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Shared.Sqlite;
using Microsoft.Data.Sqlite;

namespace Atlas.Client.Offline;

/// <summary>The outbox and the conversation cache in one SQLite file (WAL), readable by the current user only.</summary>
/// <remarks>Every write is its own transaction, so a crash leaves either the old or the new state. The schema version is
/// kept in <c>PRAGMA user_version</c>; a file written by a newer client is refused rather than damaged.</remarks>
public sealed class SqliteClientStore : IOutboxStore, IConversationCache, IDisposable
{
    // Entry i upgrades the schema from version i to i + 1 (SqliteSchema); never edit a shipped one: add one.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id TEXT NOT NULL UNIQUE,
            message TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            continues_previous INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS conversations (
            position INTEGER NOT NULL,
            id TEXT PRIMARY KEY,
            info TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS conversation_content (
            id TEXT PRIMARY KEY,
            content TEXT NOT NULL);
        """,
    ];

    private readonly string _connectionString;
    private readonly SqliteSchema _schema;

    private SqliteClientStore(string connectionString, string path)
    {
        _connectionString = connectionString;
        Path = path;
        _schema = new SqliteSchema(Migrations, (found, _) =>
            $"'{path}' was written by a newer version of this client (schema {found}); update the client or use another state directory.")
        {
            BusyTimeoutMilliseconds = 5000,
            Synchronous = "FULL",
        };
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Opens (creating when missing, mode 0600) the store at <paramref name="path"/>.</summary>
    /// <param name="path">The database file; its directory must exist.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The store.</returns>
    /// <exception cref="InvalidOperationException">The file belongs to a newer client version.</exception>
    public static async Task<SqliteClientStore> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        path = System.IO.Path.GetFullPath(path);
        SqliteSchema.CreatePrivate(path);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        var store = new SqliteClientStore(connectionString, path);
        await using var connection = await store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await store._schema.MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteSchemaException e)
        {
            // The documented exception of this public API, exactly.
            throw new InvalidOperationException(e.Message, e);
        }

        return store;
    }

    /// <inheritdoc/>
    public async ValueTask AddAsync(OutboxItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO outbox (request_id, message, queued_at, continues_previous) VALUES ($id, $message, $at, $continues)";
        command.Parameters.AddWithValue("$id", item.RequestId);
        command.Parameters.AddWithValue("$message", JsonSerializer.Serialize(item.Message, AtlasJsonContext.Default.ChatMessageRequest));
        command.Parameters.AddWithValue("$at", item.QueuedAt.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$continues", item.ContinuesPrevious ? 1 : 0);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<OutboxItem>> PendingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT request_id, message, queued_at, continues_previous FROM outbox ORDER BY seq";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var items = new List<OutboxItem>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new OutboxItem(
                reader.GetString(0),
                JsonSerializer.Deserialize(reader.GetString(1), AtlasJsonContext.Default.ChatMessageRequest)!,
                DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                reader.GetInt32(3) != 0));
        }

        return items;
    }

    /// <inheritdoc/>
    public async ValueTask SetConversationAsync(string requestId, string conversationId, CancellationToken cancellationToken = default)
    {
        var item = (await PendingAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(i => i.RequestId == requestId);
        if (item is null)
        {
            return;
        }

        item.Message.ConversationId = conversationId;
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE outbox SET message = $message, continues_previous = 0 WHERE request_id = $id";
        command.Parameters.AddWithValue("$id", requestId);
        command.Parameters.AddWithValue("$message", JsonSerializer.Serialize(item.Message, AtlasJsonContext.Default.ChatMessageRequest));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask RemoveAsync(string requestId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM outbox WHERE request_id = $id";
        command.Parameters.AddWithValue("$id", requestId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask SaveListAsync(IReadOnlyList<ConversationInfo> conversations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "DELETE FROM conversations", cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < conversations.Count; i++)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO conversations (position, id, info) VALUES ($position, $id, $info)";
            command.Parameters.AddWithValue("$position", i);
            command.Parameters.AddWithValue("$id", conversations[i].Id);
            command.Parameters.AddWithValue("$info", JsonSerializer.Serialize(conversations[i], AtlasJsonContext.Default.ConversationInfo));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // Content of conversations deleted on the desktop goes too.
        await ExecuteAsync(connection, "DELETE FROM conversation_content WHERE id NOT IN (SELECT id FROM conversations)", cancellationToken)
            .ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<ConversationInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT info FROM conversations ORDER BY position";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<ConversationInfo>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(JsonSerializer.Deserialize(reader.GetString(0), AtlasJsonContext.Default.ConversationInfo)!);
        }

        return list;
    }

    /// <inheritdoc/>
    public async ValueTask SaveConversationAsync(ConversationResponse conversation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var id = conversation.Conversation?.Id ?? throw new ArgumentException("The conversation has no id.", nameof(conversation));
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO conversation_content (id, content) VALUES ($id, $content)";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$content", JsonSerializer.Serialize(conversation, AtlasJsonContext.Default.ConversationResponse));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<ConversationResponse?> LoadAsync(string conversationId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT content FROM conversation_content WHERE id = $id";
        command.Parameters.AddWithValue("$id", conversationId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string json
            ? JsonSerializer.Deserialize(json, AtlasJsonContext.Default.ConversationResponse)
            : null;
    }

    internal Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        _schema.OpenAsync(_connectionString, cancellationToken);

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes pooled connections so the file can be moved or deleted.</summary>
    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }
}
