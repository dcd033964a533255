using System.Diagnostics;
using System.Text.Json;
using Mmcp.Core.Manifests;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Server.Tests.Examples;

/// <summary>The example app as a user runs it: a separate process that announces itself and serves its socket.</summary>
[Trait("Speed", "slow")]
public sealed class FileManagerServerTests : IAsyncLifetime
{
    private readonly TestEnvironment _env = new();
    private Process? _process;
    private string _shared = string.Empty;
    private string _socket = string.Empty;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _shared = Directory.CreateDirectory(Path.Combine(_env.Root, "shared")).FullName;
        Directory.CreateDirectory(Path.Combine(_shared, "docs"));
        await File.WriteAllTextAsync(Path.Combine(_shared, "docs", "hello.txt"), "Hello, files!", Ct);
        await File.WriteAllBytesAsync(Path.Combine(_shared, "blob.bin"), [0, 1, 2, 255], Ct);
        await File.WriteAllTextAsync(Path.Combine(_env.Root, "secret.txt"), "outside", Ct);
        File.CreateSymbolicLink(Path.Combine(_shared, "escape.txt"), Path.Combine(_env.Root, "secret.txt"));

        var dll = Path.Combine(AppContext.BaseDirectory, "FileManagerServer.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "--root", _shared]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["MMCP_RUNTIME_DIR"] = _env.RuntimeDirectory;
        start.Environment["MMCP_REGISTRY_PATH"] = _env.RegistryDirectory;
        _process = Process.Start(start)!;

        // The app logs "manifest <path>" once its socket listens and its manifest is in place.
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.Contains("manifest /", StringComparison.Ordinal))
            {
                var manifest = ManifestReader.ReadFile(line[(line.IndexOf("manifest /", StringComparison.Ordinal) + 9)..].Trim()).Manifest;
                listening.TrySetResult(((SocketTransport)manifest!.Transport).Path);
            }
        };
        _process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"FileManagerServer exited with {_process.ExitCode}"));
        _process.EnableRaisingEvents = true;
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        _socket = await listening.Task.WaitAsync(TestTimeouts.Default, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process?.Dispose();
        _env.Dispose();
    }

    [Fact]
    public async Task Manifest_AnnouncesTheSocketLaunchAndTools()
    {
        var manifest = ManifestReader.ReadFile(Path.Combine(_env.RegistryDirectory, "io.mmcp.examples.filemanager.json")).Manifest!;

        Assert.Equal(_socket, ((SocketTransport)manifest.Transport).Path);
        Assert.Equal("list_files", Assert.Single(manifest.Capabilities!.Tools).Name);
        Assert.Equal("file", Assert.Single(manifest.Capabilities.ResourceTemplates).Name);
        Assert.Contains(_shared, manifest.Launch!.Args);
        Assert.Equal(["files.read"], manifest.Permissions);
    }

    [Fact]
    public async Task ListFiles_ReturnsEntriesAndHidesLinksThatLeadOut()
    {
        await using var connection = await TestServer.ConnectAsync(_socket, Ct);

        var result = await connection.Client.CallToolAsync("list_files", new Dictionary<string, object?> { ["path"] = "" }, cancellationToken: Ct);

        Assert.NotEqual(true, result.IsError);
        var names = result.StructuredContent!.Value.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Equal(["blob.bin", "docs"], names);
    }

    [Fact]
    public async Task FileResource_ReadsTextAndBinaryFiles()
    {
        await using var connection = await TestServer.ConnectAsync(_socket, Ct);

        var text = await connection.Client.ReadResourceAsync(new Uri(Path.Combine(_shared, "docs", "hello.txt")).AbsoluteUri, cancellationToken: Ct);
        var blob = await connection.Client.ReadResourceAsync(new Uri(Path.Combine(_shared, "blob.bin")).AbsoluteUri, cancellationToken: Ct);

        Assert.Equal("Hello, files!", Assert.IsType<TextResourceContents>(Assert.Single(text.Contents)).Text);
        Assert.Equal([0, 1, 2, 255], Assert.IsType<BlobResourceContents>(Assert.Single(blob.Contents)).DecodedData.ToArray());
    }

    [Theory]
    [InlineData("../secret.txt")]
    [InlineData("escape.txt")]
    [InlineData("docs/../../secret.txt")]
    public async Task FileResource_PathsOutsideTheRoot_AreRefused(string relative)
    {
        await using var connection = await TestServer.ConnectAsync(_socket, Ct);
        var uri = "file://" + _shared + "/" + relative;

        var ex = await Assert.ThrowsAnyAsync<McpException>(() => connection.Client.ReadResourceAsync(uri, cancellationToken: Ct).AsTask());

        Assert.DoesNotContain("outside\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListFiles_OutsideTheRoot_IsAToolError()
    {
        await using var connection = await TestServer.ConnectAsync(_socket, Ct);

        var result = await connection.Client.CallToolAsync("list_files", new Dictionary<string, object?> { ["path"] = "../.." }, cancellationToken: Ct);

        Assert.True(result.IsError);
        Assert.Contains("outside the shared root", JsonSerializer.Serialize(result.Content[0], McpJsonUtilities.DefaultOptions), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminate_RemovesTheSocket()
    {
        Assert.True(File.Exists(_socket));

        Assert.Equal(0, Kill(_process!.Id, 15)); // SIGTERM: the generic host shuts down gracefully
        await _process.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Default, Ct);

        Assert.False(File.Exists(_socket));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
