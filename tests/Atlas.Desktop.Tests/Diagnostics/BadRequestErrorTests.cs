using System.Net;
using System.Net.Http.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Admin;
using Atlas.Desktop.Tests.Infrastructure;

namespace Atlas.Desktop.Tests.Diagnostics;

/// <summary>Regression: a query value the endpoint could not bind (<c>overwrite=yes</c>) got a 400 with an empty body,
/// because minimal-API binding fails before any endpoint filter runs. Every such failure now answers Atlas's error shape
/// with code <c>bad_request</c> and a message naming the parameter, the value and what it takes.</summary>
public sealed class BadRequestErrorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("files/write?path=z.txt&overwrite=yes", "overwrite", "yes")]
    [InlineData("files/delete?path=notes&recursive=1", "recursive", "1")]
    public async Task DeviceEndpoint_UnbindableQueryValue_AnswersBadRequestNamingParameterValueAndAcceptedValues(string url, string parameter, string value)
    {
        await using var host = await AtlasTestHost.StartAsync();
        using var client = await host.PairClientAsync();
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent("x"u8.ToArray()) }, Ct);

        await AssertBadRequestAsync(response, parameter, value);
    }

    [Fact]
    public async Task AdminEndpoint_UnbindableQueryValue_AnswersBadRequestAndChangesNothing()
    {
        await using var host = await AtlasTestHost.StartAsync();
        var credentials = await host.PairAsync();
        using var admin = await AdminClient.SignInAsync(host);
        using var response = await admin.SendAsync(HttpMethod.Post, $"devices/{credentials.DeviceId}/revoke?deleteFiles=maybe");

        await AssertBadRequestAsync(response, "deleteFiles", "maybe");
        Assert.NotNull(await host.Get<Storage.IDeviceStore>().GetAsync(credentials.DeviceId, Ct));
    }

    private static async Task AssertBadRequestAsync(HttpResponseMessage response, string parameter, string value)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await response.Content.ReadFromJsonAsync(AtlasJsonContext.Default.ErrorResponse, Ct))!.Error;
        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Contains($"'{parameter}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("true or false", error.Message, StringComparison.Ordinal);
    }
}
