using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>The official TypeScript SDK client, with its own OAuth support, signing in to <c>mmcp serve --oauth-issuer</c> through a real browser consent.</summary>
[Trait("Speed", "slow")]
public sealed partial class OAuthInteropTests
{
    private const string Chromium = "/usr/bin/chromium";

    private static string Mmcp => Path.Combine(AppContext.BaseDirectory, "mmcp.dll");

    /// <summary>
    /// The SDK client is refused (401 with resource_metadata), discovers the issuer, registers, sends the user to the
    /// consent page (Chromium clicks Approve), takes the code from its loopback redirect, then lists and calls tools;
    /// none of the tokens it received appears in the gateway's logs or audit file.
    /// </summary>
    [Fact]
    [Trait("Issue14", "2")]
    public async Task TypeScriptSdkClient_SignsInThroughBrowserConsent_CallsTools_TokensNeverLogged()
    {
        Assert.SkipUnless(File.Exists(Chromium), "Debian's chromium is not installed (eng/install-deps.sh installs it).");
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await using var issuer = await OAuthIssuerProcess.StartAsync();
        var serve = ChildProcess.Start("dotnet", [Mmcp, "serve", "--port", "0", "--no-import", "--require-token", "--oauth-issuer", issuer.Issuer.AbsoluteUri, "--verbose"], env.Variables);
        string serveOutput;
        string output;
        var tokensFile = Path.Combine(env.Root, "client-tokens.txt");
        try
        {
            var url = UrlPattern().Match(await serve.WaitForLineAsync(l => l.StartsWith("Mmcp gateway listening on ", StringComparison.Ordinal))).Value;
            await using var client = ChildProcess.Start(
                "node",
                [Path.Combine(AppContext.BaseDirectory, "Security", "oauth-client.mjs"), url + "/mcp", "io_test_alpha__echo"],
                new Dictionary<string, string> { ["MCP_SDK_DIR"] = Servers.NpmPackage("@modelcontextprotocol/sdk"), ["TOKENS_FILE"] = tokensFile });
            var authorize = (await client.WaitForLineAsync(l => l.StartsWith("AUTHORIZE ", StringComparison.Ordinal)))["AUTHORIZE ".Length..];

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Timeout = (float)TestTimeouts.Default.TotalMilliseconds,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
            var page = await browser.NewPageAsync();
            page.SetDefaultTimeout((float)TestTimeouts.Default.TotalMilliseconds);
            await page.GotoAsync(authorize);
            await page.ClickAsync("#approve");
            await page.WaitForSelectorAsync("#done"); // the client's loopback redirect page

            var summary = Summary().Match(await client.WaitForLineAsync(l => Summary().IsMatch(l)));
            output = client.Output;
            Assert.True(summary.Groups[2].Value == "0" && int.Parse(summary.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 5, output);
        }
        finally
        {
            // A graceful stop (SIGTERM) writes the rest of the audit log.
            using (var process = Process.GetProcessById(serve.Id))
            {
                using var term = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);
            }

            serveOutput = serve.Output;
            await serve.DisposeAsync();
        }

        var tokens = (await File.ReadAllLinesAsync(tokensFile, TestContext.Current.CancellationToken)).Where(l => l.Length > 0).Distinct().ToList();
        var audit = await File.ReadAllTextAsync(env.AuditPath, TestContext.Current.CancellationToken);
        Assert.NotEmpty(tokens);
        Assert.Contains("token:oauth:alice", audit, StringComparison.Ordinal);
        foreach (var token in tokens)
        {
            Assert.DoesNotContain(token, serveOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(token, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(token, issuer.Output, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"^(\d+) passed, (\d+) failed$")]
    private static partial Regex Summary();
}
