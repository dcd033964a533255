using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.TestServer;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client.Tests.Connectors;

public sealed class SocketConnectorTests : IAsyncLifetime
{
    private readonly TestEnvironment _env = new();
    private IHost? _server;
    private string _socket = string.Empty;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // The app side as a third-party app builds it: Mmcp.Server on a real Unix socket, in this process.
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddMmcpServerFromAttribute<TestTools>(o =>
            {
                o.Environment = _env.Environment;
                o.RegisterManifest = false;
                o.SocketPath = "inproc.sock";
            })
            .WithTools<TestTools>()
            .WithResources<TestTools>()
            .WithPrompts<TestTools>();
        _server = builder.Build();
        await _server.StartAsync(Ct);
        _socket = RegistryPaths.ResolveSocketPath("inproc.sock", _env.Environment);
        await _env.WriteManifestAsync(Servers.Manifest("test.socket", new SocketTransport { Path = "inproc.sock" }));
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync(CancellationToken.None);
            _server.Dispose();
        }

        _env.Dispose();
    }

    [Fact]
    public async Task CallTool_SocketServer_ConnectsAndAnswers()
    {
        await using var hub = _env.CreateHub();

        var result = await hub.CallToolAsync("test.socket", "echo", new Dictionary<string, object?> { ["text"] = "over the socket" }, cancellationToken: Ct);

        Assert.Equal("echo: over the socket", HubToolResults.GetText(result));
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), HubToolResults.GetText(await hub.CallToolAsync("test.socket", "pid", cancellationToken: Ct)));
        Assert.True(File.Exists(_socket));
    }

    [Fact]
    public async Task ResourcesAndPrompts_SocketServer_ListReadAndGet()
    {
        await using var hub = _env.CreateHub();

        var resources = await hub.ListResourcesAsync("test.socket", Ct);
        var read = await hub.ReadResourceAsync("test.socket", "test://items/42", Ct);
        var prompts = await hub.ListPromptsAsync(cancellationToken: Ct);
        var prompt = await hub.GetPromptAsync("test.socket", "greet", new Dictionary<string, object?> { ["name"] = "Ann" }, Ct);

        Assert.Equal("test://static", Assert.Single(resources.Resources).Resource.Uri);
        Assert.Equal("test://items/{id}", Assert.Single(resources.Templates).Template.UriTemplate);
        Assert.Equal("item 42", Assert.IsType<TextResourceContents>(Assert.Single(read.Contents)).Text);
        Assert.Equal(("test.socket", "greet"), (Assert.Single(prompts.Prompts).ServerId, prompts.Prompts[0].Prompt.Name));
        Assert.Equal("Say hello to Ann", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text);
    }

    [Fact]
    public async Task ReadResource_UnknownUri_IsNotFound()
    {
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.ReadResourceAsync("test.socket", "test://nothing/here", Ct).AsTask());

        Assert.Equal(HubErrorCode.NotFound, error.Code);
        Assert.Equal("test://nothing/here", error.Target);
    }

    [Fact]
    public async Task GetPrompt_UnknownName_IsNotFoundAndMissingArgumentIsInvalidArguments()
    {
        await using var hub = _env.CreateHub();

        var unknown = await Assert.ThrowsAsync<HubException>(() => hub.GetPromptAsync("test.socket", "nope", cancellationToken: Ct).AsTask());
        var missing = await Assert.ThrowsAsync<HubException>(() => hub.GetPromptAsync("test.socket", "greet", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.NotFound, unknown.Code);
        Assert.Contains("Its prompts: greet", unknown.Message, StringComparison.Ordinal);
        Assert.True(missing.Code == HubErrorCode.InvalidArguments, missing.Message);
    }

    [Fact]
    public async Task Connect_NothingListensAndNoLaunch_FailsWithConnectionFailed()
    {
        await _env.WriteManifestAsync(Servers.Manifest("test.down", new SocketTransport { Path = "down.sock" }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.down", "echo", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.ConnectionFailed, error.Code);
        Assert.Contains("nothing listens on", error.Message, StringComparison.Ordinal);
        Assert.Contains("add 'launch'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_SocketPathTooLong_IsAConfigurationError()
    {
        await _env.WriteManifestAsync(Servers.Manifest("test.long", new SocketTransport { Path = new string('s', 120) + ".sock" }));
        await using var hub = _env.CreateHub();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.CallToolAsync("test.long", "echo", cancellationToken: Ct).AsTask());

        Assert.Equal(HubErrorCode.ConfigurationError, error.Code);
        Assert.Contains("limited to", error.Message, StringComparison.Ordinal);
    }
}
