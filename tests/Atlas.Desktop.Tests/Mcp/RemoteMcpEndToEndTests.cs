using System.Diagnostics;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Pairing;

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

        public void Dispose() => Sandbox.Dispose();
    }
}
