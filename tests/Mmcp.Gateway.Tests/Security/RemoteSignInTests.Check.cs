using System.Text.Json.Nodes;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>Issue 14 part 1 leftovers: <c>mmcp servers --check</c> exercises the sign-in instead of trusting a cached list.</summary>
public sealed partial class RemoteSignInTests
{
    /// <summary>
    /// <c>mmcp servers --check</c> connects with the stored sign-in: never signed in, or signed in and then revoked with
    /// an expired access token (a cached tool list exists by then), it reports "sign-in required" with the command to
    /// run, in text and JSON, and exits with 9; signed in it says ok and exits with 0.
    /// </summary>
    [Fact]
    [Trait("Issue14", "1")]
    public async Task ServersCheck_NoOrRevokedSignIn_ReportsSignInRequiredExit9_OkWhenSignedIn()
    {
        await using var remote = await Remote.StartAsync();
        await remote.Issuer.SetAsync(autoApprove: true);
        var hint = $"sign-in required: run 'mmcp auth login {RemoteId}'";

        var never = await remote.MmcpAsync("servers", "--check");
        Assert.True(never.ExitCode == 9, never.Stdout + never.Stderr);
        Assert.Contains(hint, never.Stdout + never.Stderr, StringComparison.Ordinal);

        await remote.LoginWithoutBrowserAsync();
        var ok = await remote.MmcpAsync("servers", "--check", "--json");
        Assert.True(ok.ExitCode == 0, ok.Stdout + ok.Stderr);
        var okCheck = JsonNode.Parse(ok.Stdout)!["servers"]![0]!["check"]!;
        Assert.Equal("ok", (string?)okCheck["status"]);
        Assert.True((int?)okCheck["toolCount"] > 0, ok.Stdout);

        // Revoked at the issuer and the access token expired: the cached list must not make the check say ok.
        await remote.Issuer.RevokeAllAsync();
        remote.AgeAccessToken();
        var revoked = await remote.MmcpAsync("servers", "--check");
        Assert.True(revoked.ExitCode == 9, revoked.Stdout + revoked.Stderr);
        Assert.Contains(hint, revoked.Stdout + revoked.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ok (", revoked.Stdout, StringComparison.Ordinal);

        var json = await remote.MmcpAsync("servers", "--check", "--json");
        Assert.True(json.ExitCode == 9, json.Stdout + json.Stderr);
        var check = JsonNode.Parse(json.Stdout)!["servers"]![0]!["check"]!;
        Assert.Equal("signInRequired", (string?)check["status"]);
        Assert.Equal("SignInRequired", (string?)check["code"]);
        Assert.Contains($"mmcp auth login {RemoteId}", (string?)check["fix"], StringComparison.Ordinal);
    }
}
