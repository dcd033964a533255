using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Mmcp.Client.Consent;
using Mmcp.Gateway.Sessions;
using ModelContextProtocol;

namespace Mmcp.Gateway.Tests.Security;

/// <summary>"Deny hides a server": nothing of a server the user denied is listed, read, asked or forwarded, on any face.</summary>
[Trait("Speed", "slow")]
public sealed class DeniedServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// The user denies a whole server (<c>mmcp consent deny SERVER</c>): its tools were hidden, but its resources,
    /// templates and prompts stayed listed and readable on <c>/mcp</c> and the REST face, its own endpoint answered,
    /// and a session opened on that endpoint before kept its stream (regression). Now all of it is refused with
    /// ConsentRequired, an allowed server with the same resource serves it, and the open session ends.
    /// </summary>
    [Fact]
    [Trait("Leftovers", "consent")]
    public async Task DeniedServer_NothingOfItIsListedReadOrReached_OnAnyFace()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await env.WriteManifestAsync(Servers.TestServer("io.test.beta"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(env, services: s => s.AddSingleton<TimeProvider>(clock));
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25");
        var before = await client.ListResourcesAsync(cancellationToken: Ct);
        var own = await RawSession.OpenAsync(gateway, path: "/servers/io.test.alpha/mcp");
        using var stream = await own.OpenStreamAsync();
        var read = RawSession.ReadToEndAsync(stream);

        // Another process's view of the file, as `mmcp consent deny io.test.alpha` has it.
        await new ConsentStore(env.ConsentPath).SetServerAsync("io.test.alpha", ConsentDecision.Deny, Ct);

        var resources = await client.ListResourcesAsync(cancellationToken: Ct);
        var templates = await client.ListResourceTemplatesAsync(cancellationToken: Ct);
        var prompts = await client.ListPromptsAsync(cancellationToken: Ct);
        Assert.Equal(before.Count / 2, resources.Count);
        Assert.NotEmpty(templates);
        Assert.DoesNotContain(prompts, p => p.Name.StartsWith("io_test_alpha__", StringComparison.Ordinal));
        Assert.Contains(prompts, p => p.Name == "io_test_beta__greet");
        var prompt = await Assert.ThrowsAsync<McpProtocolException>(() => client.GetPromptAsync("io_test_alpha__greet", new Dictionary<string, object?> { ["name"] = "x" }, cancellationToken: Ct).AsTask());
        Assert.Contains("mmcp consent allow io.test.alpha", prompt.Message, StringComparison.Ordinal);
        Assert.NotEmpty((await client.ReadResourceAsync("test://static", cancellationToken: Ct)).Contents); // beta has it too

        var rest = await gateway.PostJsonAsync("/mcp/resources/read", """{"server":"io.test.alpha","uri":"test://static"}""");
        Assert.Equal(HttpStatusCode.Forbidden, rest.Status);
        Assert.Contains("ConsentRequired", rest.Body, StringComparison.Ordinal);
        var restPrompts = await gateway.GetAsync("/mcp/prompts/list");
        Assert.DoesNotContain("io_test_alpha__", restPrompts.Body, StringComparison.Ordinal);
        var endpoint = await own.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"resources/list"}""");
        Assert.Equal(HttpStatusCode.Forbidden, endpoint.Status);
        Assert.Contains("denied by the user", endpoint.Body, StringComparison.Ordinal);

        clock.Advance(SessionDirectory.OwnerCheckPeriod);
        await read.WaitAsync(TestTimeouts.Default, Ct);
    }

    /// <summary>
    /// Under ask-first ("nothing is exposed until allowed"), a server the user never allowed as a whole offers no
    /// resources, templates or prompts, on /mcp or its own endpoint, even when one of its tools was allowed; a server
    /// allowed as a whole offers them (regression: consent covered tools only).
    /// </summary>
    [Fact]
    [Trait("Leftovers", "consent")]
    public async Task AskFirst_ResourcesAndPrompts_OnlyOfAServerAllowedAsAWhole()
    {
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer("io.test.alpha"));
        await env.WriteManifestAsync(Servers.TestServer("io.test.beta"));
        await using var gateway = await GatewayHost.StartAsync(env, o => o.ConsentPolicy = ConsentPolicy.AskFirst);
        await gateway.Consent.SetServerAsync("io.test.beta", ConsentDecision.Allow, Ct);
        await gateway.Consent.SetToolAsync("io.test.alpha", "echo", ConsentDecision.Allow, cancellationToken: Ct);
        await using var client = await gateway.ConnectAsync(protocolVersion: "2025-11-25");

        var resources = await client.ListResourcesAsync(cancellationToken: Ct);
        var prompts = await client.ListPromptsAsync(cancellationToken: Ct);
        var prompt = await Assert.ThrowsAsync<McpProtocolException>(() => client.GetPromptAsync("io_test_alpha__greet", new Dictionary<string, object?> { ["name"] = "x" }, cancellationToken: Ct).AsTask());
        var own = await RawSession.OpenAsync(gateway, path: "/servers/io.test.alpha/mcp");
        var ownResources = await own.PostAsync("""{"jsonrpc":"2.0","id":1,"method":"resources/list"}""");
        var ownTools = await own.PostAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");

        Assert.NotEmpty(resources);
        Assert.Equal("io_test_beta__greet", Assert.Single(prompts).Name);
        Assert.Contains("has not been allowed yet", prompt.Message, StringComparison.Ordinal);
        Assert.Contains("-32010", ownResources.Body, StringComparison.Ordinal);
        Assert.Contains("\"echo\"", ownTools.Body, StringComparison.Ordinal);
    }
}
