using System.Net;
using System.Net.Http.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Infrastructure;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Chat;

/// <summary>The conversation list's preview and the <c>search</c> operation over titles and message text (socket and
/// REST): only the device's own conversations, the query matched as written (never as a LIKE pattern), paged with a
/// cursor, bad input refused.</summary>
public sealed class ConversationSearchTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.UtcNow.AddDays(-1);

    /// <summary>Each listed conversation carries the start of its last message, on one line.</summary>
    [Fact]
    [Trait("Issue9", "list")]
    public async Task List_EachConversation_CarriesThePreviewOfItsLastMessage()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        await AllAsync(phone.Chat.SendAsync(Message("Plan a trip\nto Porto"), cancellationToken: Ct));
        await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Long", "Q", new string('x', 300), Start);

        var list = await phone.Chat.ListConversationsAsync(Ct);
        Assert.Equal("Echo: Plan a trip to Porto", list[0].Preview);
        Assert.Equal(new string('x', 160) + "…", list[1].Preview);
        Assert.All(list, c => Assert.Null(c.Match));
    }

    /// <summary>A search finds titles and message text of the device's own conversations only, with the message text
    /// around the match.</summary>
    [Fact]
    [Trait("Issue9", "list")]
    public async Task Search_TitleOrMessageText_FindsOnlyTheDevicesOwnConversations_WithTheMatchAroundIt()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync("Searching phone");
        var other = await chat.PhoneAsync("Other phone");
        var prefix = string.Concat(Enumerable.Repeat("words before the place ", 10));
        var animals = await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Animals", "Which one hops?", prefix + "the Kangaroo hops.", Start);
        var budget = await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Kangaroo budget", "Costs?", "About 300.", Start.AddMinutes(1));
        await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Weather", "Rain?", "No rain today.", Start.AddMinutes(2));
        await ConversationSeed.AddAsync(chat.Host, other.DeviceId, "Kangaroo too", "kangaroo", "kangaroo", Start.AddMinutes(3));

        var page = await phone.Chat.SearchConversationsAsync("kangaroo", cancellationToken: Ct);
        Assert.Equal([budget, animals], page.Conversations!.Select(c => c.Id));
        Assert.Null(page.Conversations![0].Match); // only the title matched
        var match = page.Conversations[1].Match!;
        Assert.StartsWith("…", match, StringComparison.Ordinal);
        Assert.EndsWith("words before the place the Kangaroo hops.", match, StringComparison.Ordinal);
        Assert.InRange(match.Length, 40, 161);
        Assert.Null(page.Next);

        using var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "chat/conversations?q=HOPS"), Ct);
        var rest = await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ConversationResponse, Ct);
        Assert.Equal(("search", animals), (rest!.Op, Assert.Single(rest.Conversations!).Id));
    }

    /// <summary>%, _ and \ in a query are text: "100%" finds "100% sure", never "100 kinds".</summary>
    [Fact]
    [Trait("Issue9", "list")]
    public async Task Search_WildcardsAndBackslash_AreMatchedAsWritten()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var percent = await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "One", "q", "I am 100% sure.", Start);
        await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Two", "q", "There are 100 kinds.", Start.AddMinutes(1));
        var underscore = await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Three", "q", "the file a_b.txt", Start.AddMinutes(2));
        await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Four", "q", "the file axb.txt", Start.AddMinutes(3));
        var backslash = await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Five", "q", @"C:\temp is a path", Start.AddMinutes(4));

        async Task<IEnumerable<string>> FindAsync(string query) =>
            (await phone.Chat.SearchConversationsAsync(query, cancellationToken: Ct)).Conversations!.Select(c => c.Id);

        Assert.Equal([percent], await FindAsync("100%"));
        Assert.Equal([underscore], await FindAsync("a_b"));
        Assert.Equal([backslash], await FindAsync(@"C:\temp"));
        Assert.Empty(await FindAsync("%%"));
    }

    /// <summary>More matches than the limit come a page at a time, newest first, each once, until a page without next.</summary>
    [Fact]
    [Trait("Issue9", "list")]
    public async Task Search_MoreThanAPage_PagesWithNextUntilTheLast()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, $"Note {i}", "q", $"shared word {i}", Start.AddMinutes(i)));
        }

        // Two with the same time: the cursor orders them by id and loses neither.
        ids.Add(await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "Twin", "q", "shared word twin", Start.AddMinutes(6)));
        var seen = new List<string>();
        var sizes = new List<int>();
        string? cursor = null;
        do
        {
            var page = await phone.Chat.SearchConversationsAsync("shared word", 3, cursor, Ct);
            seen.AddRange(page.Conversations!.Select(c => c.Id));
            sizes.Add(page.Conversations!.Count);
            cursor = page.Next;
        }
        while (cursor is not null);

        Assert.Equal([3, 3, 2], sizes);
        string[] twins = [.. new[] { ids[6], ids[7] }.Order(StringComparer.Ordinal)];
        Assert.Equal([.. twins, .. ids[..6].AsEnumerable().Reverse()], seen);
    }

    /// <summary>Regression (trial F1): a cursor whose time is past the last date the desktop can represent threw
    /// while it was read — over the socket the request was never answered (the socket closed, the client resent it
    /// after each reconnect until rate limited), over REST it was an empty 500. It is a cursor the desktop never gave out.</summary>
    [Fact]
    public async Task Search_CursorPastTheLastDate_IsRefusedWithBadRequest()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        const string Cursor = "99999999999999999.cnv_x";

        var refused = await Assert.ThrowsAsync<AtlasException>(() => phone.Chat.SearchConversationsAsync("text", null, Cursor, Ct));
        Assert.Equal(ErrorCodes.BadRequest, refused.Code);
        using var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "chat/conversations?q=text&cursor=" + Cursor), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ErrorCodes.BadRequest, await AtlasTestHost.ErrorCodeAsync(response));
    }

    /// <summary>An empty, too long or control-character query, a limit outside 1–50 and a cursor the desktop never gave
    /// out are refused with bad_request, over the socket and REST.</summary>
    [Fact]
    [Trait("Issue9", "list")]
    public async Task Search_BadQueryLimitOrCursor_IsRefusedWithBadRequest()
    {
        await using var chat = await StartAsync();
        var phone = await chat.PhoneAsync();
        await ConversationSeed.AddAsync(chat.Host, phone.DeviceId, "One", "q", "text", Start);

        foreach (var (query, limit, cursor) in new (string, int?, string?)[]
        {
            ("", null, null), ("   ", null, null), (new string('a', 201), null, null), ("a\u0001b", null, null),
            ("text", 0, null), ("text", 51, null), ("text", null, "junk"), ("text", null, "abc.cnv_x"), ("text", null, "12."),
        })
        {
            var refused = await Assert.ThrowsAsync<AtlasException>(() => phone.Chat.SearchConversationsAsync(query, limit, cursor, Ct));
            Assert.Equal(ErrorCodes.BadRequest, refused.Code);
        }

        foreach (var url in new[] { "chat/conversations?q=", "chat/conversations?q=text&limit=abc", "chat/conversations?q=text&cursor=x" })
        {
            using var response = await phone.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, url), Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(ErrorCodes.BadRequest, await AtlasTestHost.ErrorCodeAsync(response));
        }

        Assert.Single(await phone.Chat.ListConversationsAsync(Ct));
    }
}
