using Atlas.Client.Offline;
using Atlas.Client.Protocol;
using Microsoft.Data.Sqlite;

namespace Atlas.Client.Tests.Offline;

public sealed class SqliteClientStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "atcs-" + Guid.NewGuid().ToString("N")[..10]);

    public SqliteClientStoreTests() => Directory.CreateDirectory(_dir);

    private string DbPath => Path.Combine(_dir, "client.db");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Outbox_ReopenedStore_KeepsItemsInOrderWithTheirIds()
    {
        string first, second;
        using (var store = await SqliteClientStore.OpenAsync(DbPath, Ct))
        using (var outbox = new AtlasOutbox(store))
        {
            first = (await outbox.EnqueueAsync(new ChatMessageRequest { Text = "one" }, cancellationToken: Ct)).RequestId;
            second = (await outbox.EnqueueAsync(new ChatMessageRequest { Text = "two", Model = "m" }, continuesPrevious: true, Ct)).RequestId;
        }

        using var reopened = await SqliteClientStore.OpenAsync(DbPath, Ct);
        var pending = await reopened.PendingAsync(Ct);

        Assert.Equal([first, second], pending.Select(p => p.RequestId));
        Assert.Equal("two", pending[1].Message.Text);
        Assert.Equal("m", pending[1].Message.Model);
        Assert.True(pending[1].ContinuesPrevious);
        Assert.False(pending[0].ContinuesPrevious);
    }

    [Fact]
    public async Task Outbox_SetConversationThenRemove_StoresTheFixedBodyAndForgets()
    {
        using var store = await SqliteClientStore.OpenAsync(DbPath, Ct);
        using var outbox = new AtlasOutbox(store);
        var item = await outbox.EnqueueAsync(new ChatMessageRequest { Text = "x" }, continuesPrevious: true, Ct);

        await store.SetConversationAsync(item.RequestId, "cnv_1", Ct);
        var fixedItem = Assert.Single(await store.PendingAsync(Ct));
        await store.RemoveAsync(item.RequestId, Ct);

        Assert.Equal("cnv_1", fixedItem.Message.ConversationId);
        Assert.False(fixedItem.ContinuesPrevious);
        Assert.Empty(await store.PendingAsync(Ct));
    }

    [Fact]
    public async Task Open_NewFile_IsPrivateToTheUser()
    {
        using var store = await SqliteClientStore.OpenAsync(DbPath, Ct);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(DbPath));
    }

    [Fact]
    public async Task Open_FileFromNewerClient_RefusedWithoutChange()
    {
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            await command.ExecuteNonQueryAsync(Ct);
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SqliteClientStore.OpenAsync(DbPath, Ct));

        Assert.Contains("newer version", error.Message, StringComparison.Ordinal);
        Assert.Contains("schema 99", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Every connection of the client store gets the same pragmas, and the file is in WAL mode at version 1.</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task OpenConnection_AnyConnection_HasWalForeignKeysBusyTimeoutAndFullSync()
    {
        using var store = await SqliteClientStore.OpenAsync(DbPath, Ct);
        await using var connection = await store.OpenConnectionAsync(Ct);

        Assert.Equal(("wal", 1L, 5000L, 2L, 1L), (
            (string)(await Pragma(connection, "journal_mode"))!,
            (long)(await Pragma(connection, "foreign_keys"))!,
            (long)(await Pragma(connection, "busy_timeout"))!,
            (long)(await Pragma(connection, "synchronous"))!,
            (long)(await Pragma(connection, "user_version"))!));
    }

    /// <summary>Reopening a current file runs no migration (the version stays, the data stays).</summary>
    [Fact]
    [Trait("Issue13", "storage")]
    public async Task Open_CurrentFile_MigratesNothingAndKeepsData()
    {
        using (var store = await SqliteClientStore.OpenAsync(DbPath, Ct))
        using (var outbox = new AtlasOutbox(store))
        {
            await outbox.EnqueueAsync(new ChatMessageRequest { Text = "kept" }, cancellationToken: Ct);
        }

        using var reopened = await SqliteClientStore.OpenAsync(DbPath, Ct);
        await using var connection = await reopened.OpenConnectionAsync(Ct);

        Assert.Equal(1L, await Pragma(connection, "user_version"));
        Assert.Equal("kept", Assert.Single(await reopened.PendingAsync(Ct)).Message.Text);
    }

    private static async Task<object?> Pragma(SqliteConnection connection, string name)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return await command.ExecuteScalarAsync(Ct);
    }

    [Fact]
    public async Task ConversationCache_NewList_DropsContentOfDeletedConversations()
    {
        using var store = await SqliteClientStore.OpenAsync(DbPath, Ct);
        ConversationInfo Info(string id) => new() { Id = id, Title = "T " + id, MessageCount = 2 };
        await store.SaveListAsync([Info("b"), Info("a")], Ct);
        await store.SaveConversationAsync(new ConversationResponse { Op = "load", Conversation = Info("a"), Messages = [new ChatMessageView { Id = "m1", Role = "user", Content = "hi" }] }, Ct);
        await store.SaveConversationAsync(new ConversationResponse { Op = "load", Conversation = Info("b"), Messages = [] }, Ct);

        Assert.Equal(["b", "a"], (await store.ListAsync(Ct)).Select(c => c.Id));
        Assert.Equal("hi", (await store.LoadAsync("a", Ct))!.Messages![0].Content);

        await store.SaveListAsync([Info("b")], Ct);

        Assert.Equal(["b"], (await store.ListAsync(Ct)).Select(c => c.Id));
        Assert.Null(await store.LoadAsync("a", Ct));
        Assert.NotNull(await store.LoadAsync("b", Ct));
    }
}
