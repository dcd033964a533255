using System.Net;
using System.Text;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

/// <summary>Required fields of the file requests are required: a missing or wrongly typed field is <c>bad_request</c>
/// naming it and changes nothing (never read as an empty or zero value).</summary>
public sealed class FileRequestFieldTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Regression: a session created without <c>size</c> (or with <c>"sise"</c>) was read as size 0, completed at
    /// once and emptied the existing file.</summary>
    [Theory]
    [InlineData("""{"path":"important.txt","overwrite":true}""", "size")]
    [InlineData("""{"path":"important.txt","sise":1000,"overwrite":true}""", "size")]
    [InlineData("""{"path":"important.txt","size":null,"overwrite":true}""", "size")]
    [InlineData("""{"size":3,"overwrite":true}""", "path")]
    public async Task CreateUpload_MissingField_BadRequestNamingIt_AndFileUntouched(string body, string field)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var file = Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "important.txt");
        using (var write = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=important.txt")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("keep me")),
        }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        }

        using var create = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        var error = (await JsonDocument.ParseAsync(await create.Content.ReadAsStreamAsync(Ct), cancellationToken: Ct)).RootElement.GetProperty("error");
        Assert.Equal(ErrorCodes.BadRequest, error.GetProperty("code").GetString());
        Assert.Contains($"'{field}'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(file, Ct));
        Assert.False(Directory.Exists(Path.Combine(host.DataDir, "uploads", client.Credentials.DeviceId))
            && Directory.EnumerateFiles(Path.Combine(host.DataDir, "uploads", client.Credentials.DeviceId)).Any());
    }

    /// <summary>Regression: a WebSocket write without <c>content</c> was read as empty content and emptied the file.</summary>
    [Fact]
    public async Task WebSocketWrite_WithoutContent_BadRequestNamingIt_AndFileUntouched()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        await RequestAsync(connection, """{"op":"write","path":"x","content":"a2VlcA=="}""");

        var error = await Assert.ThrowsAsync<AtlasException>(() => RequestAsync(connection, """{"op":"write","path":"x","overwrite":true}"""));

        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Contains("'content'", error.Message, StringComparison.Ordinal);
        Assert.Equal("keep", await File.ReadAllTextAsync(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "x"), Ct));
    }

    [Fact]
    public async Task WebSocketWrite_WronglyTypedContent_BadRequestNamingIt()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);

        var error = await Assert.ThrowsAsync<AtlasException>(() => RequestAsync(connection, """{"op":"write","path":"x","content":5}"""));

        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Contains("$.content", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "x")));
    }

    /// <summary>Regression: a move without <c>to</c> read it as the root and answered invalid_path "The device's root cannot be
    /// moved or replaced".</summary>
    [Fact]
    public async Task Move_WithoutTo_BadRequestNamingIt_OverRestAndWebSocket()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        await RequestAsync(connection, """{"op":"write","path":"notes/a.txt","content":"a2VlcA=="}""");

        using var rest = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/move?path=notes/a.txt"), Ct);
        var socket = await Assert.ThrowsAsync<AtlasException>(() => RequestAsync(connection, """{"op":"move","path":"notes/a.txt"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, rest.StatusCode);
        var error = (await JsonDocument.ParseAsync(await rest.Content.ReadAsStreamAsync(Ct), cancellationToken: Ct)).RootElement.GetProperty("error");
        Assert.Equal(ErrorCodes.BadRequest, error.GetProperty("code").GetString());
        Assert.Contains("'to'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.BadRequest, socket.Code);
        Assert.Contains("'to'", socket.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(host.DataDir, "files", client.Credentials.DeviceId, "notes", "a.txt")));
    }

    /// <summary>Regression: a negative size answered 413 too_large, and a size sent as a string was accepted.</summary>
    [Theory]
    [InlineData("""{"path":"n.bin","size":-5}""")]
    [InlineData("""{"path":"n.bin","size":"10"}""")]
    [InlineData("""{"path":"n.bin","size":10,"overwrite":"true"}""")]
    public async Task CreateUpload_NegativeOrWronglyTypedNumber_BadRequest(string body)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();

        using var create = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        Assert.Equal(ErrorCodes.BadRequest, await AtlasTestHost.ErrorCodeAsync(create));
    }

    /// <summary>Regression: a WebSocket read with a negative length answered too_large; a length sent as a string was read.</summary>
    [Theory]
    [InlineData("""{"op":"read","path":"r.txt","length":-1}""")]
    [InlineData("""{"op":"read","path":"r.txt","length":"2"}""")]
    [InlineData("""{"op":"read","path":"r.txt","offset":"1"}""")]
    public async Task WebSocketRead_NegativeOrWronglyTypedNumber_BadRequest(string data)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        await using var connection = await client.ConnectAsync(Ct);
        await RequestAsync(connection, """{"op":"write","path":"r.txt","content":"a2VlcA=="}""");

        var error = await Assert.ThrowsAsync<AtlasException>(() => RequestAsync(connection, data));

        Assert.Equal(ErrorCodes.BadRequest, error.Code);
    }

    private static Task<AtlasEnvelope> RequestAsync(Atlas.Client.Connection.AtlasConnection connection, string data) =>
        connection.RequestAsync(MessageTypes.FileRequest, JsonDocument.Parse(data).RootElement.Clone(), cancellationToken: Ct);
}
