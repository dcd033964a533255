using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mmcp.Core.Manifests;
using Mmcp.Core.Registry;
using Mmcp.Server.Registration;

namespace Mmcp.Server.Tests.Registration;

public sealed class ManifestRegistrarTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_WritesAValidManifestWithTheCapabilitySnapshot()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);

        var path = Path.Combine(env.RegistryDirectory, "com.example.test.json");
        var result = ManifestReader.ReadFile(path);

        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        var m = result.Manifest!;
        Assert.Equal("Test Server", m.Name);
        Assert.Equal("Tools for the Mmcp.Server tests.", m.Description);
        Assert.Equal("2.0.0", m.Version);
        Assert.Equal(["testing"], m.Categories);
        Assert.Equal(TestServer.SocketPath(host), Assert.IsType<SocketTransport>(m.Transport).Path);
        Assert.NotNull(m.Launch);
        Assert.Equal(["echo", "hold", "wait"], m.Capabilities!.Tools.Select(t => t.Name));
        Assert.Equal("Echoes the text back.", m.Capabilities.Tools[0].Description);
        Assert.Equal("Text to echo", m.Capabilities.Tools[0].InputSchema.GetProperty("properties").GetProperty("text").GetProperty("description").GetString());
        Assert.Equal("test://static", Assert.Single(m.Capabilities.Resources).Uri);
        Assert.Equal("test://items/{id}", Assert.Single(m.Capabilities.ResourceTemplates).UriTemplate);
        Assert.Equal("greet", Assert.Single(m.Capabilities.Prompts).Name);
        await host.StopAsync(Ct);
        Assert.True(File.Exists(path), "the manifest is an install-time index and stays after the app stops");
    }

    [Fact]
    public async Task Start_UnchangedManifest_IsNotRewritten()
    {
        using var env = new TestEnvironment();
        using (var host = TestServer.Build(env))
        {
            await host.StartAsync(Ct);
            await host.StopAsync(Ct);
        }

        var path = Path.Combine(env.RegistryDirectory, "com.example.test.json");
        var before = File.GetLastWriteTimeUtc(path);
        File.SetLastWriteTimeUtc(path, before.AddMinutes(-5));
        using (var host = TestServer.Build(env))
        {
            var written = await host.Services.GetRequiredService<ManifestRegistrar>().RegisterAsync(Ct);
            Assert.False(written);
        }

        Assert.Equal(before.AddMinutes(-5), File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public async Task DiscoveredByTheRegistry_WithoutConnecting()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env);
        await host.StartAsync(Ct);
        await host.StopAsync(Ct); // nothing listens any more: discovery must not need the server

        await using var registry = ServerRegistry.Create(new RegistryOptions { Environment = env.Environment, ImportClientConfigs = false });
        var snapshot = await registry.RefreshAsync(Ct);

        var server = Assert.Single(snapshot.Servers);
        Assert.Equal("com.example.test", server.Id);
        Assert.Equal(3, server.Manifest.Capabilities!.Tools.Count); // echo, wait, hold
    }

    [Fact]
    public async Task RunMmcpAsync_RegisterAndUnregisterArguments_ManageTheManifestWithoutServing()
    {
        using var env = new TestEnvironment();
        var path = Path.Combine(env.RegistryDirectory, "com.example.test.json");

        using (var host = TestServer.Build(env))
        {
            Assert.Equal(0, await host.RunMmcpAsync([MmcpServerHostExtensions.RegisterArgument], Ct));
        }

        Assert.True(ManifestReader.ReadFile(path).IsValid);
        Assert.False(Directory.Exists(env.RuntimeDirectory) && Directory.EnumerateFileSystemEntries(env.RuntimeDirectory).Any(), "registering must not start the socket");

        using (var host = TestServer.Build(env))
        {
            Assert.Equal(0, await host.RunMmcpAsync([MmcpServerHostExtensions.UnregisterArgument], Ct));
        }

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task RegisterManifestFalse_WritesNothing()
    {
        using var env = new TestEnvironment();
        using var host = TestServer.Build(env, o => o.RegisterManifest = false);
        await host.StartAsync(Ct);

        Assert.False(Directory.Exists(env.RegistryDirectory));
        await host.StopAsync(Ct);
    }
}
