using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Mmcp.Gateway.Security;
using Mmcp.Gateway.Sessions;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>A session lives no longer than the right of the token that opened it.</summary>
[Trait("Speed", "slow")]
public sealed class SessionRevocationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// A token is revoked, or expires, while its session holds a GET stream open (where the gateway pushes server logs,
    /// resource updates and list changes): the gateway ends the session, the stream closes, and the session's id is
    /// unknown from then on (regression: revocation refused the token's next request but left its stream flowing).
    /// A session of another token goes on.
    /// </summary>
    [Theory]
    [Trait("Leftovers", "revocation")]
    [InlineData("/mcp", false)]
    [InlineData("/mcp", true)]
    [InlineData("/servers/io.test.alpha/mcp", false)]
    public async Task Session_WhenItsTokenIsRevokedOrExpires_EndsWithItsOpenStream(string path, bool expire)
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(env, services: s => s.AddSingleton<TimeProvider>(clock));
        var (token, secret) = await gateway.Tokens.CreateAsync("phone", [GatewayScopes.ToolsCall], expire ? TimeSpan.FromMinutes(5) : null, Ct);
        var (_, other) = await gateway.Tokens.CreateAsync("laptop", [GatewayScopes.ToolsCall], cancellationToken: Ct);
        var session = await RawSession.OpenAsync(gateway, secret, path);
        var bystander = await RawSession.OpenAsync(gateway, other, path);
        using var stream = await session.OpenStreamAsync();
        var read = RawSession.ReadToEndAsync(stream);

        if (expire)
        {
            clock.Advance(TimeSpan.FromMinutes(5));
        }
        else
        {
            Assert.Equal(1, await gateway.Tokens.RevokeAsync(token.Id, Ct));
        }

        clock.Advance(SessionDirectory.OwnerCheckPeriod);
        await read.WaitAsync(TestTimeouts.Default, Ct);

        var again = await session.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", other);
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        var goesOn = await bystander.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""");
        Assert.Equal(HttpStatusCode.OK, goesOn.Status);
    }
}
