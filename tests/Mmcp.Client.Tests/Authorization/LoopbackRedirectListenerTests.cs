using System.Net;
using Mmcp.Client.Authorization;

namespace Mmcp.Client.Tests.Authorization;

/// <summary>The loopback redirect of <c>mmcp auth login</c> (RFC 8252) over real TCP: what it accepts and what it refuses.</summary>
public sealed class LoopbackRedirectListenerTests
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = TestTimeouts.Default };

    /// <summary>The redirect URI is http on 127.0.0.1 with a port the OS picked; the matching answer yields code, state and issuer and the browser sees the done page.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task WaitAsync_MatchingState_ReturnsCodeAndShowsDonePage()
    {
        using var listener = LoopbackRedirectListener.Start();
        Assert.Equal("127.0.0.1", listener.RedirectUri.Host);
        Assert.NotEqual(0, listener.RedirectUri.Port);
        var wait = listener.WaitAsync("io.test.remote", "s1", TestContext.Current.CancellationToken);
        using var response = await Http.GetAsync(new Uri(listener.RedirectUri, "?code=c1&state=s1&iss=http%3A%2F%2F127.0.0.1%3A9%2F"), TestContext.Current.CancellationToken);
        var result = await wait.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
        Assert.Equal(("c1", "s1", "http://127.0.0.1:9/"), (result.Code, result.State, result.Iss));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("id=\"done\"", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    /// <summary>An answer whose state is not the one sent (another request's, or forged) is refused with a clear error, and the browser is told so.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task WaitAsync_StateMismatch_RefusedWithClearError()
    {
        using var listener = LoopbackRedirectListener.Start();
        var wait = listener.WaitAsync("io.test.remote", "expected", TestContext.Current.CancellationToken);
        using var response = await Http.GetAsync(new Uri(listener.RedirectUri, "?code=c1&state=forged"), TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<HubException>(() => wait.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken));
        Assert.Equal(HubErrorCode.SignInRequired, error.Code);
        Assert.Contains("state that does not match", error.Message, StringComparison.Ordinal);
        Assert.Equal(HubErrorReasons.SignInStateMismatch, error.Reason);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>A request to another path (a redirect URI that is not the one registered, a favicon) gets 404 and does not end the wait; the right one then completes it.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task WaitAsync_OtherRedirectPath_Gets404AndKeepsWaiting()
    {
        using var listener = LoopbackRedirectListener.Start();
        var wait = listener.WaitAsync("io.test.remote", "s1", TestContext.Current.CancellationToken);
        using (var wrong = await Http.GetAsync(new Uri(listener.RedirectUri, "/elsewhere?code=stolen&state=s1"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, wrong.StatusCode);
        }

        Assert.False(wait.IsCompleted);
        using var right = await Http.GetAsync(new Uri(listener.RedirectUri, "?code=c2&state=s1"), TestContext.Current.CancellationToken);
        Assert.Equal("c2", (await wait.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken)).Code);
    }

    /// <summary>The authorization server's refusal (error=access_denied) ends the sign-in with its reason.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task WaitAsync_AuthorizationServerError_RefusedWithItsReason()
    {
        using var listener = LoopbackRedirectListener.Start();
        var wait = listener.WaitAsync("io.test.remote", "s1", TestContext.Current.CancellationToken);
        using var response = await Http.GetAsync(new Uri(listener.RedirectUri, "?error=access_denied&error_description=The+user+denied&state=s1"), TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<HubException>(() => wait.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken));
        Assert.Contains("access_denied (The user denied)", error.Message, StringComparison.Ordinal);
        Assert.Equal(HubErrorReasons.SignInRefused, error.Reason);
    }

    /// <summary>An answer without an authorization code is refused, with a reason a program can act on.</summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task WaitAsync_AnswerWithoutCode_RefusedWithItsReason()
    {
        using var listener = LoopbackRedirectListener.Start();
        var wait = listener.WaitAsync("io.test.remote", "s1", TestContext.Current.CancellationToken);
        using var response = await Http.GetAsync(new Uri(listener.RedirectUri, "?state=s1"), TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<HubException>(() => wait.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken));
        Assert.Equal((HubErrorCode.SignInRequired, HubErrorReasons.SignInNoCode), (error.Code, error.Reason));
        Assert.Contains("carries no code", error.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
