using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Files;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

/// <summary>Conditional file operations (If-Match / If-None-Match on the entries' ETags) and request ids
/// (Idempotency-Key) on the REST file API: what a phone that queued changes offline relies on when it reconnects.</summary>
public sealed class FileConditionTests
{
    private const string PreconditionFailed = "precondition_failed";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Listings, stat and writes carry an ETag per file that changes when the content changes.</summary>
    [Fact]
    [Trait("Issue9", "offline-files")]
    public async Task Entries_CarryAnETag_ThatChangesWithTheContent()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var written = await WriteAsync(client, "a.txt", "one");
        var etag = written.GetProperty("etag").GetString();
        Assert.Matches("^\"[0-9a-f]+-[0-9a-f]+\"$", etag);
        using var list = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/list"), Ct);
        var listed = (await list.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("entries")[0];
        Assert.Equal(etag, listed.GetProperty("etag").GetString());
        using var read = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "files/read?path=a.txt"), Ct);
        Assert.Equal(etag, read.Headers.ETag?.ToString());

        var changed = await WriteAsync(client, "a.txt", "two!", overwrite: true);
        Assert.NotEqual(etag, changed.GetProperty("etag").GetString());
    }

    /// <summary>
    /// Two writes of the same size within one tick of the clock (here a clock that does not move; on Linux before 6.13
    /// the file system's own times tick in jiffies) still give the file two ETags, so the phone that saw the first
    /// version cannot overwrite the second (regression: the ETag, size and write time, stayed the same: a lost update).
    /// </summary>
    [Fact]
    [Trait("Leftovers", "etag")]
    public async Task Write_TwiceInOneTickToTheSameSize_TheFirstETagNoLongerMatches()
    {
        await using var host = await AtlasTestHost.StartAsync(time: AtlasTestHost.NewFakeTime());
        using var client = await host.PairClientAsync();
        var root = Path.Combine(host.DataDir, "files", client.Credentials.DeviceId);
        var seen = (await WriteAsync(client, "a.txt", "phone")).GetProperty("etag").GetString()!;
        var current = (await WriteAsync(client, "a.txt", "desk!", overwrite: true)).GetProperty("etag").GetString()!;
        Assert.NotEqual(seen, current);

        using var stale = await UploadAsync(client, "a.txt", "phone", overwrite: true, ifMatch: seen);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal("desk!", await File.ReadAllTextAsync(Path.Combine(root, "a.txt"), Ct));
        using var fresh = await UploadAsync(client, "a.txt", "phone", overwrite: true, ifMatch: current);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.NotEqual(current, (await fresh.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("etag").GetString());
    }

    /// <summary>A move or delete conditioned on an ETag the file no longer has is refused with 412 precondition_failed,
    /// and nothing moves or disappears; with the current ETag it applies.</summary>
    [Fact]
    [Trait("Issue9", "offline-files")]
    public async Task MoveAndDelete_WithAStaleIfMatch_Refused412_AndNothingChanges()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var root = Path.Combine(host.DataDir, "files", client.Credentials.DeviceId);
        var seen = (await WriteAsync(client, "a.txt", "phone saw this")).GetProperty("etag").GetString()!;
        var current = (await WriteAsync(client, "a.txt", "the desktop changed it", overwrite: true)).GetProperty("etag").GetString()!;

        using var move = await PostAsync(client, "files/move?path=a.txt&to=b.txt", ifMatch: seen);
        Assert.Equal(HttpStatusCode.PreconditionFailed, move.StatusCode);
        Assert.Equal(PreconditionFailed, await AtlasTestHost.ErrorCodeAsync(move));
        using var delete = await PostAsync(client, "files/delete?path=a.txt", ifMatch: seen);
        Assert.Equal(HttpStatusCode.PreconditionFailed, delete.StatusCode);
        Assert.Equal(PreconditionFailed, await AtlasTestHost.ErrorCodeAsync(delete));
        Assert.Equal("the desktop changed it", await File.ReadAllTextAsync(Path.Combine(root, "a.txt"), Ct));
        Assert.False(File.Exists(Path.Combine(root, "b.txt")));

        // A move onto an existing target stays a 409 already_exists (If-None-Match: * is the default for moves).
        await WriteAsync(client, "c.txt", "someone else's");
        using var onto = await PostAsync(client, "files/move?path=a.txt&to=c.txt", ifMatch: current);
        Assert.Equal(HttpStatusCode.Conflict, onto.StatusCode);
        Assert.Equal("already_exists", await AtlasTestHost.ErrorCodeAsync(onto));
        Assert.Equal("someone else's", await File.ReadAllTextAsync(Path.Combine(root, "c.txt"), Ct));

        using var moved = await PostAsync(client, "files/move?path=a.txt&to=b.txt", ifMatch: current);
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var movedEtag = (await moved.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("etag").GetString()!;
        using var deleted = await PostAsync(client, "files/delete?path=b.txt", ifMatch: movedEtag);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.False(File.Exists(Path.Combine(root, "b.txt")));
    }

    /// <summary>Uploads never overwrite what the phone did not see: If-None-Match: * refuses an existing target, If-Match
    /// refuses a target that changed or is gone, for whole uploads and at the completion of a resumable upload.</summary>
    [Fact]
    [Trait("Issue9", "offline-files")]
    public async Task Uploads_WithStaleConditions_Refused412_AndTheDesktopsFileIsKept()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var root = Path.Combine(host.DataDir, "files", client.Credentials.DeviceId);
        var seen = (await WriteAsync(client, "doc.txt", "v1")).GetProperty("etag").GetString()!;
        await WriteAsync(client, "doc.txt", "v2 from the desktop", overwrite: true);

        using var whole = await UploadAsync(client, "doc.txt", "phone's edit", overwrite: true, ifMatch: seen);
        Assert.Equal(HttpStatusCode.PreconditionFailed, whole.StatusCode);
        Assert.Equal(PreconditionFailed, await AtlasTestHost.ErrorCodeAsync(whole));
        using var absent = await UploadAsync(client, "doc.txt", "phone's new file", overwrite: true, ifNoneMatch: "*");
        Assert.Equal(HttpStatusCode.PreconditionFailed, absent.StatusCode);
        using var gone = await UploadAsync(client, "never.txt", "x", overwrite: true, ifMatch: seen);
        Assert.Equal(HttpStatusCode.PreconditionFailed, gone.StatusCode);
        Assert.False(File.Exists(Path.Combine(root, "never.txt")));

        // Resumable: the condition is checked again when the last chunk completes the upload.
        var current = (await WriteAsync(client, "doc.txt", "v3", overwrite: true)).GetProperty("etag").GetString()!;
        using var create = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions")
        {
            Content = JsonContent.Create(new UploadCreateRequest("doc.txt", 10, Overwrite: true), DesktopJsonContext.Default.UploadCreateRequest),
            Headers = { IfMatch = { EntityTagHeaderValue.Parse(current) } },
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var upload = (await create.Content.ReadFromJsonAsync(DesktopJsonContext.Default.UploadStatus, Ct))!;
        await WriteAsync(client, "doc.txt", "v4 meanwhile", overwrite: true);
        var chunk = new HttpRequestMessage(HttpMethod.Put, "files/upload/sessions/" + upload.UploadId) { Content = new ByteArrayContent(new byte[10]) };
        chunk.Content.Headers.ContentRange = new ContentRangeHeaderValue(0, 9, 10);
        chunk.Headers.IfMatch.Add(EntityTagHeaderValue.Parse(current));
        using var completed = await client.SendAsync(chunk, Ct);
        Assert.Equal(HttpStatusCode.PreconditionFailed, completed.StatusCode);
        Assert.Equal("v4 meanwhile", await File.ReadAllTextAsync(Path.Combine(root, "doc.txt"), Ct));
    }

    /// <summary>A mutation sent again with the same Idempotency-Key (the answer was lost) gets the first answer and is
    /// not applied twice; the same key for a different request is refused with duplicate_request.</summary>
    [Fact]
    [Trait("Issue9", "offline-files")]
    public async Task Mutations_SentTwiceWithOneIdempotencyKey_AppliedOnce_TheReplayGetsTheFirstAnswer()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var root = Path.Combine(host.DataDir, "files", client.Credentials.DeviceId);
        await WriteAsync(client, "a.txt", "a");

        using var first = await PostAsync(client, "files/move?path=a.txt&to=b.txt", key: "op-1");
        using var again = await PostAsync(client, "files/move?path=a.txt&to=b.txt", key: "op-1");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode); // not 404: the move is not run a second time
        Assert.Equal(await first.Content.ReadAsStringAsync(Ct), await again.Content.ReadAsStringAsync(Ct));

        using var upload = await UploadAsync(client, "new.txt", "first", key: "op-2");
        File.Delete(Path.Combine(root, "new.txt"));
        using var uploadAgain = await UploadAsync(client, "new.txt", "first", key: "op-2");
        Assert.Equal(HttpStatusCode.OK, uploadAgain.StatusCode);
        Assert.False(File.Exists(Path.Combine(root, "new.txt"))); // the replay wrote nothing

        // A refusal is an answer too: the replay is refused the same way.
        using var refused = await PostAsync(client, "files/delete?path=missing.txt", key: "op-3");
        using var refusedAgain = await PostAsync(client, "files/delete?path=missing.txt", key: "op-3");
        Assert.Equal(HttpStatusCode.NotFound, refusedAgain.StatusCode);

        using var reused = await PostAsync(client, "files/delete?path=b.txt", key: "op-1");
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
        Assert.Equal("duplicate_request", await AtlasTestHost.ErrorCodeAsync(reused));
        Assert.True(File.Exists(Path.Combine(root, "b.txt")));
    }

    /// <summary>Regression (trial F6): the key did not cover the body, so a change sent under a key already used for another
    /// body got the first answer (200, "written") while its own bytes were dropped. The same bytes again (a multipart form
    /// built again has a new boundary) still get the first answer.</summary>
    [Fact]
    public async Task Changes_SameIdempotencyKeyWithAnotherBody_AreDuplicateRequest_AndNothingIsLost()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        var root = Path.Combine(host.DataDir, "files", client.Credentials.DeviceId);

        async Task<HttpResponseMessage> WriteKeyedAsync(string text)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "files/write?path=w.txt&overwrite=true") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(text)) };
            request.Headers.Add("Idempotency-Key", "w-1");
            return await client.SendAsync(request, Ct);
        }

        using var written = await WriteKeyedAsync("first");
        using var sameBytes = await WriteKeyedAsync("first");
        using var otherBytes = await WriteKeyedAsync("other");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (written.StatusCode, sameBytes.StatusCode));
        Assert.Equal(HttpStatusCode.Conflict, otherBytes.StatusCode);
        Assert.Equal(ErrorCodes.DuplicateRequest, await AtlasTestHost.ErrorCodeAsync(otherBytes));
        Assert.Equal("first", await File.ReadAllTextAsync(Path.Combine(root, "w.txt"), Ct));

        using var uploaded = await UploadAsync(client, "u.txt", "first", key: "u-1");
        using var sameForm = await UploadAsync(client, "u.txt", "first", key: "u-1"); // a new boundary, the same change
        using var otherForm = await UploadAsync(client, "u.txt", "other", key: "u-1");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (uploaded.StatusCode, sameForm.StatusCode));
        Assert.Equal(ErrorCodes.DuplicateRequest, await AtlasTestHost.ErrorCodeAsync(otherForm));

        using var create = new HttpRequestMessage(HttpMethod.Post, "files/upload/sessions") { Content = JsonContent.Create(new { path = "s.bin", size = 4 }) };
        using var created = await client.SendAsync(create, Ct);
        var uploadId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("uploadId").GetString();
        async Task<HttpResponseMessage> ChunkAsync(string bytes)
        {
            var request = new HttpRequestMessage(HttpMethod.Put, $"files/upload/sessions/{uploadId}") { Content = new ByteArrayContent(Encoding.ASCII.GetBytes(bytes)) };
            request.Content.Headers.ContentRange = new ContentRangeHeaderValue(0, 1, 4);
            request.Headers.Add("Idempotency-Key", "c-1");
            return await client.SendAsync(request, Ct);
        }

        using var chunk = await ChunkAsync("ab");
        using var otherChunk = await ChunkAsync("xy");
        Assert.Equal(HttpStatusCode.OK, chunk.StatusCode);
        Assert.Equal(ErrorCodes.DuplicateRequest, await AtlasTestHost.ErrorCodeAsync(otherChunk));
    }

    private static async Task<HttpResponseMessage> PostAsync(AtlasClient client, string url, string? ifMatch = null, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(EntityTagHeaderValue.Parse(ifMatch));
        }

        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await client.SendAsync(request, Ct);
    }

    private static async Task<JsonElement> WriteAsync(AtlasClient client, string path, string text, bool overwrite = false)
    {
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"files/write?path={path}&overwrite={overwrite}")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(text)),
        }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private static async Task<HttpResponseMessage> UploadAsync(AtlasClient client, string path, string text, bool overwrite = false,
        string? ifMatch = null, string? ifNoneMatch = null, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"files/upload?overwrite={overwrite}")
        {
            Content = new MultipartFormDataContent
            {
                { new StringContent(path), "path" },
                { new ByteArrayContent(Encoding.UTF8.GetBytes(text)), "file", "upload" },
            },
        };
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(EntityTagHeaderValue.Parse(ifMatch));
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await client.SendAsync(request, Ct);
    }
}
