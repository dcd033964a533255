using System.Diagnostics;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Pairing;
using ModelContextProtocol.Client;

namespace Atlas.Desktop.Tests.Mcp;

/// <summary>A second Mmcp hub on "another machine": the built <c>mmcp</c> as a real child process in its own sandbox (home,
/// registry), paired with a real desktop host by <c>mmcp remote add</c>, calls a desktop tool through <c>mmcp call</c>; after
/// the desktop revokes it, it gets a clear message; a changed certificate key is refused.</summary>
[Trait("Speed", "slow")]
public sealed class RemoteMcpEndToEndTests
{
    private const string RemoteId = "atlas.test-desktop";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Pair with <c>mmcp remote add</c>, list and call a desktop tool; revoke; the next call fails with "pair again".</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task MmcpRemoteAdd_PairsAndCallsADesktopTool_AndAfterRevokeSaysPairAgain()
    {
        await using var host = await DeviceMcpTests.StartAsync();
        using var machine = new MmcpMachine();
        var link = (await host.Get<PairingService>().CreateTicketAsync(Ct)).Url;

        var added = await machine.RunAsync("remote", "add", link, "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        var entry = JsonDocument.Parse(added.Stdout).RootElement;
        Assert.Equal(RemoteId, entry.GetProperty("id").GetString());
        var deviceId = entry.GetProperty("deviceId").GetString()!;
        var credentialFile = Path.Combine(machine.Sandbox.ConfigDirectory, "mmcp", "remotes", RemoteId + ".json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentialFile));
        var credential = JsonDocument.Parse(await File.ReadAllTextAsync(credentialFile, Ct)).RootElement.GetProperty("credential").GetString()!;
        Assert.DoesNotContain(credential, added.Stdout + added.Stderr, StringComparison.Ordinal);
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.Tools], null, Ct);

        var listed = await machine.RunAsync("remote", "list", "--json");
        Assert.Contains(RemoteId, listed.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(credential, listed.Stdout, StringComparison.Ordinal);
        var tools = await machine.RunAsync("tools", "--json");
        Assert.True(tools.ExitCode == 0, tools.ToString());
        Assert.Contains(DeviceMcpTests.Echo, tools.Stdout, StringComparison.Ordinal);
        var call = await machine.RunAsync("call", RemoteId, DeviceMcpTests.Echo, "--args", """{"message":"from another machine"}""");
        Assert.True(call.ExitCode == 0, call.ToString());
        Assert.Contains("Echo: from another machine", call.Stdout, StringComparison.Ordinal);
        Assert.Contains(await host.Get<Storage.IAuditLog>().RecentAsync(50, Ct), a => a.Event == "mcp_tool_called" && a.DeviceId == deviceId);

        // The desktop takes the tools permission away: the call is refused, and the tool list this machine kept from
        // before (its cache on disk) does not list the desktop's tools any more, and says why.
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [], null, Ct);
        var forbidden = await machine.RunAsync("call", RemoteId, DeviceMcpTests.Echo, "--args", """{"message":"no permission"}""");
        Assert.True(forbidden.ExitCode != 0, forbidden.ToString());
        Assert.Contains("refused this device", forbidden.Stderr + forbidden.Stdout, StringComparison.Ordinal);
        var withoutPermission = await machine.RunAsync("tools", "--json");
        Assert.True(withoutPermission.ExitCode == 0, withoutPermission.ToString());
        Assert.DoesNotContain(DeviceMcpTests.Echo, withoutPermission.Stdout, StringComparison.Ordinal);
        Assert.Contains(RemoteId, JsonDocument.Parse(withoutPermission.Stdout).RootElement.GetProperty("warnings").ToString(), StringComparison.Ordinal);
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.Tools], null, Ct);
        var permittedAgain = await machine.RunAsync("tools", "--json");
        Assert.Contains(DeviceMcpTests.Echo, permittedAgain.Stdout, StringComparison.Ordinal);

        await host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: false, Ct);

        var refused = await machine.RunAsync("call", RemoteId, DeviceMcpTests.Echo, "--args", """{"message":"again"}""");
        // Exit 9 (the desktop refused this machine's credential; the user's action is the fix), and the fix names pairing
        // again, not starting the server: the desktop is up and answered.
        Assert.True(refused.ExitCode == 9, refused.ToString());
        Assert.Contains("the desktop revoked this device; pair again with mmcp remote add", refused.Stderr + refused.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"SignInRequired: The desktop revoked this device", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("start the app", refused.Stderr, StringComparison.Ordinal);
        var check = await machine.RunAsync("servers", "--check", "--json");
        Assert.True(check.ExitCode == 9, check.ToString());
        var desktopCheck = JsonDocument.Parse(check.Stdout).RootElement.GetProperty("servers").EnumerateArray()
            .Single(s => s.GetProperty("id").GetString() == RemoteId).GetProperty("check");
        Assert.Equal("signInRequired", desktopCheck.GetProperty("status").GetString());
        Assert.Contains("mmcp remote add <pairing-url>", desktopCheck.GetProperty("fix").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("mmcp auth login", desktopCheck.GetProperty("fix").GetString(), StringComparison.Ordinal);

        var removed = await machine.RunAsync("remote", "remove", RemoteId);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.False(File.Exists(credentialFile));
        Assert.False(File.Exists(Path.Combine(machine.Sandbox.RegistryDirectory, RemoteId + ".json")));
    }

    /// <summary>A stored pin that the desktop's key does not match is refused with a message naming the pin; nothing is sent.</summary>
    [Fact]
    [Trait("Issue14", "3")]
    public async Task MmcpRemote_WhenTheDesktopsKeyDoesNotMatchThePin_IsRefusedWithAClearError()
    {
        await using var host = await DeviceMcpTests.StartAsync();
        using var machine = new MmcpMachine();
        var added = await machine.RunAsync("remote", "add", (await host.Get<PairingService>().CreateTicketAsync(Ct)).Url, "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        await host.Get<DeviceService>().SetPermissionsAsync(JsonDocument.Parse(added.Stdout).RootElement.GetProperty("deviceId").GetString()!, [Permissions.Tools], null, Ct);
        var credentialFile = Path.Combine(machine.Sandbox.ConfigDirectory, "mmcp", "remotes", RemoteId + ".json");
        var stored = await File.ReadAllTextAsync(credentialFile, Ct);
        await File.WriteAllTextAsync(credentialFile, stored.Replace(host.Pin, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", StringComparison.Ordinal), Ct);

        var call = await machine.RunAsync("call", RemoteId, DeviceMcpTests.Echo, "--args", """{"message":"x"}""");

        Assert.NotEqual(0, call.ExitCode);
        Assert.Contains("does not match the one pinned", call.Stderr + call.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(await host.Get<Storage.IAuditLog>().RecentAsync(50, Ct), a => a.Event == "mcp_tool_called");
    }

    /// <summary>A gateway (<c>mmcp serve</c>, a real process) fronting a paired desktop: when the desktop takes the tools
    /// permission away, the call through the gateway is refused and the desktop's tools leave the gateway's tool list
    /// (what the gateway knew of them is not a permission); given back, they return.</summary>
    [Fact]
    [Trait("Issue8", "cache-vs-permission")]
    public async Task MmcpServe_WhenTheDesktopTakesThePermissionAway_ItsToolsLeaveTheGatewaysList()
    {
        await using var host = await DeviceMcpTests.StartAsync();
        using var machine = new MmcpMachine();
        var added = await machine.RunAsync("remote", "add", (await host.Get<PairingService>().CreateTicketAsync(Ct)).Url, "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        var deviceId = JsonDocument.Parse(added.Stdout).RootElement.GetProperty("deviceId").GetString()!;
        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.Tools], null, Ct);
        using var serve = await machine.StartServeAsync();
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(serve.Url, "/mcp"), TransportMode = HttpTransportMode.StreamableHttp }),
            new McpClientOptions { ProtocolVersion = "2025-06-18" },
            cancellationToken: Ct);
        var listed = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        var desktopEcho = listed.SingleOrDefault(n => n.StartsWith("atlas_test-desktop__", StringComparison.Ordinal) && n.EndsWith("_everything_echo", StringComparison.Ordinal));
        Assert.True(desktopEcho is not null, string.Join(", ", listed));
        var echo = await client.CallToolAsync(desktopEcho, new Dictionary<string, object?> { ["message"] = "through the gateway" }, cancellationToken: Ct);
        Assert.Contains("Echo: through the gateway", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);

        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [], null, Ct);
        var refused = await Assert.ThrowsAnyAsync<ModelContextProtocol.McpException>(() => client.CallToolAsync(desktopEcho, new Dictionary<string, object?> { ["message"] = "no permission" }, cancellationToken: Ct).AsTask());
        Assert.Contains("refused this device", refused.Message, StringComparison.Ordinal);
        await WaitForToolsAsync(client, tools => !tools.Contains(desktopEcho));

        await host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.Tools], null, Ct);
        var again = await client.CallToolAsync(desktopEcho, new Dictionary<string, object?> { ["message"] = "given back" }, cancellationToken: Ct);
        Assert.Contains("Echo: given back", JsonSerializer.Serialize(again.Content), StringComparison.Ordinal);
        await WaitForToolsAsync(client, tools => tools.Contains(desktopEcho));
    }

    /// <summary>Lists the gateway's tools until <paramref name="done"/> holds (the gateway rebuilds its list when the hub
    /// announces a change, which it does from the thread pool), within the shared test timeout.</summary>
    private static async Task WaitForToolsAsync(McpClient client, Func<IReadOnlyList<string>, bool> done)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TestTimeouts.Default);
        IReadOnlyList<string> names = [];
        try
        {
            while (true)
            {
                names = [.. (await client.ListToolsAsync(cancellationToken: deadline.Token)).Select(t => t.Name)];
                if (done(names))
                {
                    return;
                }

                await Task.Delay(50, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            // The shared timeout ran out: say what the list was.
        }

        Assert.Fail($"The gateway's tool list did not change as expected: {string.Join(", ", names)}");
    }

    /// <summary>A sandboxed "machine" running the built <c>mmcp</c> as a child process.</summary>
    internal sealed class MmcpMachine : IDisposable
    {
        public MmcpMachine()
        {
            Sandbox.CreateHome();
            Sandbox.CreateRegistry();
            Sandbox.CreateWorkDirectory();
        }

        public TestSandbox Sandbox { get; } = new("mr-");

        /// <summary>The mmcp built in its own output directory (its deps.json resolves there; the copy next to the tests does not run).</summary>
        private static string MmcpDll
        {
            get
            {
                var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
                while (configuration.Parent is { } parent && parent.Name != "bin")
                {
                    configuration = parent;
                }

                return Repository.Path("src", "Mmcp.Cli", "bin", configuration.Name, "net10.0", "mmcp.dll");
            }
        }

        public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
        {
            var start = new ProcessStartInfo("dotnet", [MmcpDll, .. args, "--registry", Sandbox.RegistryDirectory, "--no-import"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                WorkingDirectory = Sandbox.WorkDirectory,
            };
            Sandbox.ApplyTo(start);
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(Ct);
            var stderr = process.StandardError.ReadToEndAsync(Ct);
            try
            {
                await process.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, await stdout, await stderr);
        }

        /// <summary>Starts <c>mmcp serve</c> on a free loopback port in this sandbox; returns when it listens.</summary>
        public async Task<ServeProcess> StartServeAsync()
        {
            var start = new ProcessStartInfo("dotnet", [MmcpDll, "serve", "--port", "0", "--registry", Sandbox.RegistryDirectory, "--no-import"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Sandbox.WorkDirectory,
            };
            Sandbox.ApplyTo(start);
            var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            const string Listening = "Mmcp gateway listening on ";
            while (await process.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct) is { } line)
            {
                if (line.StartsWith(Listening, StringComparison.Ordinal))
                {
                    _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None); // keep draining
                    return new ServeProcess(process, new Uri(line[Listening.Length..].Split(' ')[0]));
                }
            }

            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"mmcp serve ended before it listened: {await stderr}");
        }

        public void Dispose() => Sandbox.Dispose();
    }

    /// <summary>A running <c>mmcp serve</c>, stopped with its children when disposed.</summary>
    internal sealed class ServeProcess(Process process, Uri url) : IDisposable
    {
        public Uri Url { get; } = url;

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }
    }
}
