using System.Globalization;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Storage;
using Microsoft.Data.Sqlite;

namespace Atlas.Desktop.Chat.Conversations;

/// <summary>A new exchange: the user's message and the (streaming) assistant message answering it, recorded in one
/// transaction together with the request id that makes the send idempotent. <paramref name="Replaces"/> (edit,
/// regenerate, retry) names a user message that is deleted, with every later message, in the same transaction.</summary>
internal sealed record NewTurn(
    string DeviceId,
    string RequestId,
    byte[] RequestHash,
    string ConversationId,
    bool NewConversation,
    string Title,
    ChatMessageView User,
    ChatMessageView Assistant,
    string? Replaces = null);

/// <summary>The request id record: which assistant message a client request id started.</summary>
internal sealed record StoredRequest(byte[] Hash, string MessageId);

/// <summary>A stored message with the conversation and device it belongs to.</summary>
internal sealed record StoredMessage(string ConversationId, string DeviceId, ChatMessageView Message);

/// <summary>Conversations and messages per device (narrow, so a server database can replace SQLite).</summary>
internal interface IConversationStore
{
    Task<StoredRequest?> FindRequestAsync(string deviceId, string requestId, CancellationToken cancellationToken);

    /// <summary>Records a turn; false when the request id is already recorded (a racing duplicate), changing nothing.</summary>
    Task<bool> StartTurnAsync(NewTurn turn, CancellationToken cancellationToken);

    Task CheckpointAsync(string messageId, string content, IReadOnlyList<ChatToolActivity> tools, long lastSeq, CancellationToken cancellationToken);

    Task CompleteAsync(string conversationId, ChatMessageView message, IReadOnlyList<string> generationIds, CancellationToken cancellationToken);

    /// <summary>Marks every message still streaming as interrupted (after a crash or an abrupt stop).</summary>
    Task<int> MarkInterruptedAsync(DateTimeOffset at, CancellationToken cancellationToken);

    Task<IReadOnlyList<ConversationInfo>> ListAsync(string deviceId, CancellationToken cancellationToken);

    Task<ConversationInfo?> GetAsync(string deviceId, string conversationId, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="limit"/> messages of a conversation, oldest first.</summary>
    Task<IReadOnlyList<ChatMessageView>> LoadAsync(string conversationId, int limit, CancellationToken cancellationToken);

    Task<StoredMessage?> GetMessageAsync(string deviceId, string messageId, CancellationToken cancellationToken);

    Task<bool> RenameAsync(string deviceId, string conversationId, string title, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string deviceId, string conversationId, CancellationToken cancellationToken);

    Task<int> PruneRequestsAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>The device's conversations whose title or any message contains <paramref name="query"/> (as written,
    /// case-insensitive for ASCII), most recently updated first, at most <paramref name="limit"/> after
    /// <paramref name="after"/>; each with the most recent matching message text in <see cref="ConversationInfo.Match"/>.</summary>
    Task<IReadOnlyList<ConversationInfo>> SearchAsync(string deviceId, string query, int limit, ConversationCursor? after,
        CancellationToken cancellationToken);
}

/// <summary>A place in the conversation order (most recently updated first, then by id): a search page starts after it.</summary>
internal readonly record struct ConversationCursor(DateTimeOffset UpdatedAt, string Id);

/// <summary>SQLite implementation (the desktop's WAL database, migration 2).</summary>
internal sealed class SqliteConversationStore : IConversationStore
{
    private const string MessageColumns =
        "m.id, m.role, m.content, m.status, m.request_id, m.attachments, m.tools, m.model, m.finish_reason, m.error_code, "
        + "m.error_message, m.prompt_tokens, m.completion_tokens, m.total_tokens, m.cost, m.last_seq, m.created_at, m.completed_at";

    /// <summary>The conversation columns: id, title, times, message count and the last message with text (its start).</summary>
    private const string ConversationColumns =
        "c.id, c.title, c.created_at, c.updated_at, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id), "
        + "(SELECT substr(m.content, 1, 400) FROM messages m WHERE m.conversation_id = c.id AND m.content <> '' ORDER BY m.rowid DESC LIMIT 1)";

    /// <summary>How much of a message a list entry shows (preview or search match).</summary>
    private const int PreviewLength = 160;

    /// <summary>How much text before a search match its snippet keeps.</summary>
    private const int MatchContext = 40;

    private readonly AtlasDatabase _database;

    public SqliteConversationStore(AtlasDatabase database)
    {
        _database = database;
    }

    public async Task<StoredRequest?> FindRequestAsync(string deviceId, string requestId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "SELECT request_hash, message_id FROM chat_requests WHERE device_id = $d AND request_id = $r",
            ("$d", deviceId), ("$r", requestId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoredRequest((byte[])reader.GetValue(0), reader.GetString(1))
            : null;
    }

    public async Task<bool> StartTurnAsync(NewTurn turn, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var now = Ms(turn.User.CreatedAt);
        try
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO chat_requests (device_id, request_id, request_hash, message_id, created_at) VALUES ($d, $r, $h, $m, $now)",
                cancellationToken, ("$d", turn.DeviceId), ("$r", turn.RequestId), ("$h", turn.RequestHash), ("$m", turn.Assistant.Id), ("$now", now))
                .ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19)
        {
            return false; // SQLITE_CONSTRAINT: the same request id won a race; the caller attaches to it.
        }

        if (turn.NewConversation)
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO conversations (id, device_id, title, created_at, updated_at) VALUES ($id, $d, $t, $now, $now)",
                cancellationToken, ("$id", turn.ConversationId), ("$d", turn.DeviceId), ("$t", turn.Title), ("$now", now)).ConfigureAwait(false);
        }
        else if (await ExecuteAsync(connection, transaction, "UPDATE conversations SET updated_at = $now WHERE id = $id AND device_id = $d",
            cancellationToken, ("$id", turn.ConversationId), ("$d", turn.DeviceId), ("$now", now)).ConfigureAwait(false) != 1)
        {
            throw new InvalidOperationException("The conversation vanished while the turn was recorded.");
        }

        if (turn.Replaces is { } replaced && await ExecuteAsync(connection, transaction,
            """
            DELETE FROM messages WHERE conversation_id = $c
              AND rowid >= (SELECT rowid FROM messages WHERE id = $m AND conversation_id = $c AND role = 'user')
            """,
            cancellationToken, ("$c", turn.ConversationId), ("$m", replaced)).ConfigureAwait(false) == 0)
        {
            throw new InvalidOperationException("The replaced message vanished while the turn was recorded.");
        }

        foreach (var message in new[] { turn.User, turn.Assistant })
        {
            await ExecuteAsync(connection, transaction,
                """
                INSERT INTO messages (id, conversation_id, role, content, status, request_id, attachments, model, last_seq, created_at)
                VALUES ($id, $c, $role, $content, $status, $r, $a, $model, 0, $now)
                """,
                cancellationToken, ("$id", message.Id), ("$c", turn.ConversationId), ("$role", message.Role), ("$content", message.Content),
                ("$status", message.Status), ("$r", message.RequestId),
                ("$a", message.Attachments is { Count: > 0 } a ? JsonSerializer.Serialize(a, AtlasJsonContext.Default.ListChatAttachment) : null),
                ("$model", message.Model), ("$now", now)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task CheckpointAsync(string messageId, string content, IReadOnlyList<ChatToolActivity> tools, long lastSeq,
        CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null,
            "UPDATE messages SET content = $content, tools = $tools, last_seq = $seq WHERE id = $id AND status = 'streaming'",
            cancellationToken, ("$id", messageId), ("$content", content), ("$tools", Tools(tools)), ("$seq", lastSeq)).ConfigureAwait(false);
    }

    public async Task CompleteAsync(string conversationId, ChatMessageView message, IReadOnlyList<string> generationIds,
        CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction,
            """
            UPDATE messages SET content = $content, status = $status, tools = $tools, model = $model, finish_reason = $finish,
                error_code = $code, error_message = $error, prompt_tokens = $pt, completion_tokens = $ct, total_tokens = $tt, cost = $cost,
                generation_ids = $gen, last_seq = $seq, completed_at = $done
            WHERE id = $id
            """,
            cancellationToken, ("$id", message.Id), ("$content", message.Content), ("$status", message.Status), ("$tools", Tools(message.Tools)),
            ("$model", message.Model), ("$finish", message.FinishReason), ("$code", message.Error?.Code), ("$error", message.Error?.Message),
            ("$pt", message.Usage?.PromptTokens), ("$ct", message.Usage?.CompletionTokens), ("$tt", message.Usage?.TotalTokens),
            ("$cost", message.Usage?.Cost?.ToString(CultureInfo.InvariantCulture)),
            ("$gen", generationIds.Count > 0 ? string.Join(' ', generationIds) : null), ("$seq", message.LastSeq ?? 0),
            ("$done", Ms(message.CompletedAt ?? message.CreatedAt))).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, "UPDATE conversations SET updated_at = max(updated_at, $now) WHERE id = $id",
            cancellationToken, ("$id", conversationId), ("$now", Ms(message.CompletedAt ?? message.CreatedAt))).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> MarkInterruptedAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null,
            """
            UPDATE messages SET status = 'interrupted', error_code = $code, completed_at = $at,
                error_message = 'The desktop stopped while this answer was being generated; the text received so far is kept.'
            WHERE status = 'streaming'
            """,
            cancellationToken, ("$code", ErrorCodes.Interrupted), ("$at", Ms(at))).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ConversationInfo>> ListAsync(string deviceId, CancellationToken cancellationToken) =>
        await QueryConversationsAsync("WHERE c.device_id = $d ORDER BY c.updated_at DESC, c.id", cancellationToken, ("$d", deviceId))
            .ConfigureAwait(false);

    public async Task<ConversationInfo?> GetAsync(string deviceId, string conversationId, CancellationToken cancellationToken)
    {
        var found = await QueryConversationsAsync("WHERE c.device_id = $d AND c.id = $id", cancellationToken, ("$d", deviceId), ("$id", conversationId))
            .ConfigureAwait(false);
        return found.Count > 0 ? found[0] : null;
    }

    public async Task<IReadOnlyList<ChatMessageView>> LoadAsync(string conversationId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            $"SELECT * FROM (SELECT {MessageColumns}, m.rowid AS r FROM messages m WHERE m.conversation_id = $c ORDER BY m.rowid DESC LIMIT $n) ORDER BY r",
            ("$c", conversationId), ("$n", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<ChatMessageView>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(ReadMessage(reader));
        }

        return result;
    }

    public async Task<StoredMessage?> GetMessageAsync(string deviceId, string messageId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            $"SELECT {MessageColumns}, c.id, c.device_id FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $id AND c.device_id = $d",
            ("$id", messageId), ("$d", deviceId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoredMessage(reader.GetString(18), reader.GetString(19), ReadMessage(reader))
            : null;
    }

    public async Task<bool> RenameAsync(string deviceId, string conversationId, string title, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "UPDATE conversations SET title = $t, updated_at = $at WHERE id = $id AND device_id = $d",
            cancellationToken, ("$id", conversationId), ("$d", deviceId), ("$t", title), ("$at", Ms(at))).ConfigureAwait(false) == 1;
    }

    public async Task<bool> DeleteAsync(string deviceId, string conversationId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "DELETE FROM conversations WHERE id = $id AND device_id = $d",
            cancellationToken, ("$id", conversationId), ("$d", deviceId)).ConfigureAwait(false) == 1;
    }

    public async Task<int> PruneRequestsAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "DELETE FROM chat_requests WHERE created_at < $before", cancellationToken,
            ("$before", Ms(before))).ConfigureAwait(false);
    }

    private Task<IReadOnlyList<ConversationInfo>> QueryConversationsAsync(string where, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters) =>
        QueryConversationsAsync("", where, null, cancellationToken, parameters);

    /// <summary>Conversations with <see cref="ConversationColumns"/>; a search adds the matching message as the 7th
    /// column (<paramref name="extraColumns"/>) and names the <paramref name="query"/> to cut its snippet around.</summary>
    private async Task<IReadOnlyList<ConversationInfo>> QueryConversationsAsync(string extraColumns, string where, string? query,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            $"SELECT {ConversationColumns}{extraColumns} FROM conversations c " + where, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<ConversationInfo>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new ConversationInfo
            {
                Id = reader.GetString(0),
                Title = reader.GetString(1),
                CreatedAt = FromMs(reader.GetInt64(2)),
                UpdatedAt = FromMs(reader.GetInt64(3)),
                MessageCount = reader.GetInt32(4),
                Preview = reader.IsDBNull(5) ? null : Snippet(reader.GetString(5), 0, 0, PreviewLength),
                Match = reader.FieldCount > 6 && !reader.IsDBNull(6) ? MatchSnippet(reader.GetString(6), query) : null,
            });
        }

        return result;
    }

    public async Task<IReadOnlyList<ConversationInfo>> SearchAsync(string deviceId, string query, int limit, ConversationCursor? after,
        CancellationToken cancellationToken)
    {
        // LIKE with every wildcard of the query escaped: the text is found as written, never read as a pattern.
        var pattern = "%" + query.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal)
            .Replace("_", @"\_", StringComparison.Ordinal) + "%";
        const string Hit = @"m.content LIKE $p ESCAPE '\'";
        var page = after is not null ? "AND (c.updated_at < $u OR (c.updated_at = $u AND c.id > $after)) " : "";
        return await QueryConversationsAsync(
            $", (SELECT m.content FROM messages m WHERE m.conversation_id = c.id AND {Hit} ORDER BY m.rowid DESC LIMIT 1) AS hit ",
            $"WHERE c.device_id = $d AND (c.title LIKE $p ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND {Hit})) "
            + page + "ORDER BY c.updated_at DESC, c.id LIMIT $n",
            query, cancellationToken, ("$d", deviceId), ("$p", pattern), ("$n", limit),
            ("$u", after is { } a ? Ms(a.UpdatedAt) : (long?)null), ("$after", after?.Id)).ConfigureAwait(false);
    }

    /// <summary>The first <paramref name="length"/> characters from around <paramref name="at"/> on one line (white space
    /// collapsed), with an ellipsis where text was left out.</summary>
    internal static string Snippet(string text, int at, int before, int length)
    {
        var start = Math.Max(0, at - before);
        var end = Math.Min(text.Length, start + length);
        var line = string.Join(' ', text[start..end].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return (start > 0 ? "…" : "") + line + (end < text.Length ? "…" : "");
    }

    private static string MatchSnippet(string text, string? query)
    {
        var at = query is null ? -1 : text.IndexOf(query, StringComparison.OrdinalIgnoreCase);
        return Snippet(text, Math.Max(at, 0), MatchContext, PreviewLength);
    }

    private static ChatMessageView ReadMessage(SqliteDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        long? Long(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
        var role = reader.GetString(1);
        var message = new ChatMessageView
        {
            Id = reader.GetString(0),
            Role = role,
            Content = reader.GetString(2),
            Status = reader.GetString(3),
            RequestId = Text(4),
            Attachments = Text(5) is { } a ? JsonSerializer.Deserialize(a, AtlasJsonContext.Default.ListChatAttachment) : null,
            Tools = Text(6) is { } t ? JsonSerializer.Deserialize(t, AtlasJsonContext.Default.ListChatToolActivity) : null,
            Model = Text(7),
            FinishReason = Text(8),
            Error = Text(9) is { } code ? new AtlasError { Code = code, Message = Text(10) ?? "" } : null,
            LastSeq = role == "assistant" ? reader.GetInt64(15) : null,
            CreatedAt = FromMs(reader.GetInt64(16)),
            CompletedAt = Long(17) is { } done ? FromMs(done) : null,
        };
        if (Long(13) is { } total)
        {
            message.Usage = new ChatUsage
            {
                PromptTokens = Long(11) ?? 0,
                CompletionTokens = Long(12) ?? 0,
                TotalTokens = total,
                Cost = Text(14) is { } cost ? decimal.Parse(cost, CultureInfo.InvariantCulture) : null,
            };
        }

        return message;
    }

    private static string? Tools(IReadOnlyList<ChatToolActivity>? tools) =>
        tools is { Count: > 0 } ? JsonSerializer.Serialize(tools as List<ChatToolActivity> ?? [.. tools], AtlasJsonContext.Default.ListChatToolActivity) : null;

    private static Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql,
        CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        Sql.ExecuteAsync(connection, transaction, sql, cancellationToken, parameters);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Sql.Command(connection, sql, parameters);

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromMs(long ms) => Sql.FromMs(ms);
}
