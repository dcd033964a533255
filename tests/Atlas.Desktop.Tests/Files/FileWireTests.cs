using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Files;

/// <summary>Edges of the REST file wire format: every error has the JSON error body; a multipart upload is one
/// <c>path</c> field and one file part.</summary>
public sealed class FileWireTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A method a route does not take is 405 with <c>Allow</c> and the JSON error (regression: 404 "No endpoint
    /// at …", as if the path did not exist); a path no route has stays 404.</summary>
    [Theory]
    [InlineData("GET", "files/write", "POST")]
    [InlineData("PUT", "files/list", "GET")]
    [InlineData("DELETE", "files/upload/sessions", "GET, POST")]
    [InlineData("GET", "files/nothing-here", null)]
    [InlineData("POST", "no/such/route", null)]
    public async Task UnsupportedMethod_405NamingTheMethodsThePathTakes(string method, string path, string? allow)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);

        var error = (await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(Ct), cancellationToken: Ct)).RootElement.GetProperty("error");
        if (allow is null)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(ErrorCodes.NotFound, error.GetProperty("code").GetString());
        }
        else
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
            Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
            Assert.Equal(ErrorCodes.MethodNotAllowed, error.GetProperty("code").GetString());
            Assert.Contains(method, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>Regression: an unsatisfiable range answered 416 with an empty body.</summary>
    [Fact]
    public async Task Read_UnsatisfiableRange_416WithJsonErrorAndContentRange()
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        using (var write = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/write?path=eleven.txt")
        {
            Content = new ByteArrayContent(Encoding.ASCII.GetBytes("hello world")),
        }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        }

        var request = new HttpRequestMessage(HttpMethod.Get, "files/read?path=eleven.txt");
        request.Headers.Range = new RangeHeaderValue(20, 30);
        using var read = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, read.StatusCode);
        Assert.Equal("bytes */11", read.Content.Headers.ContentRange?.ToString());
        var error = (await JsonDocument.ParseAsync(await read.Content.ReadAsStreamAsync(Ct), cancellationToken: Ct)).RootElement.GetProperty("error");
        Assert.Equal(ErrorCodes.RangeNotSatisfiable, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    /// <summary>Regression: two path fields (the last won) or two file parts (the second was ignored) were accepted.</summary>
    [Theory]
    [InlineData(2, 1)]
    [InlineData(1, 2)]
    public async Task MultipartUpload_ExtraPathOrFilePart_BadRequest_AndNothingWritten(int paths, int files)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        using var form = new MultipartFormDataContent();
        for (var i = 0; i < paths; i++)
        {
            form.Add(new StringContent($"p{i}.bin"), "path");
        }

        for (var i = 0; i < files; i++)
        {
            form.Add(new ByteArrayContent([1, 2, 3]), "file", $"f{i}.bin");
        }

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "files/upload") { Content = form }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ErrorCodes.BadRequest, await AtlasTestHost.ErrorCodeAsync(response));
        var root = Path.Combine(host.DataDir, "files", client.Credentials.DeviceId);
        Assert.False(Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any());
    }
}
