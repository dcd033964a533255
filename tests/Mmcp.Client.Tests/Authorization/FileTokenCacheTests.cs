using Mmcp.Client.Authorization;
using ModelContextProtocol.Authentication;

namespace Mmcp.Client.Tests.Authorization;

/// <summary>The SDK's token cache over a server's sign-in file: what another process stores there is what the next request uses.</summary>
public sealed class FileTokenCacheTests : IDisposable
{
    private static readonly Uri Url = new("https://mcp.example.com/mcp");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mftc-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>
    /// Another process (an <c>mmcp auth login</c>, a refresh) replaces the tokens with ones of the same length within one
    /// tick of the file system's clock, so the file keeps its time and its length: the next request must use the new
    /// access token (regression: the cache kept the old one, which the server no longer accepts, until the file changed again).
    /// </summary>
    [Fact]
    [Trait("Leftovers", "stamp")]
    public async Task GetTokens_TokensReplacedKeepingTheFilesTimeAndLength_ReturnsTheNewOnes()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new OAuthTokenStore(_dir);
        var path = store.PathFor("com.example.remote");
        var tick = TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(1); // ahead of the clock: the reads fall within it
        var obtained = DateTimeOffset.UnixEpoch.AddYears(56);
        await store.WriteAsync("com.example.remote", Url, Tokens("access-1", obtained), ct);
        File.SetLastWriteTimeUtc(path, tick);
        var cache = new FileTokenCache(store, "com.example.remote", Url, ignoreExisting: false);
        Assert.Equal("access-1", (await cache.GetTokensAsync(ct))?.AccessToken);
        var length = new FileInfo(path).Length;

        await new OAuthTokenStore(_dir).WriteAsync("com.example.remote", Url, Tokens("access-2", obtained), ct);
        File.SetLastWriteTimeUtc(path, tick);
        Assert.Equal(length, new FileInfo(path).Length);

        Assert.Equal("access-2", (await cache.GetTokensAsync(ct))?.AccessToken);
    }

    private static TokenContainer Tokens(string access, DateTimeOffset obtained) => new()
    {
        TokenType = "Bearer",
        AccessToken = access,
        RefreshToken = "refresh",
        ExpiresIn = 3600,
        ObtainedAt = obtained,
    };
}
