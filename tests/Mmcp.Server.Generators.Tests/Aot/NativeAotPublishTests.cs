using System.Text.RegularExpressions;
using Mmcp.Core.Installation;
using Mmcp.Core.Manifests;
using Mmcp.Server.Generators.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace Mmcp.Server.Generators.Tests.Aot;

/// <summary>Publishes the FileManagerServer example as NativeAOT once per run (into a temporary directory).</summary>
public sealed partial class NativeAotPublish : IAsyncLifetime
{
    private readonly TestSandbox _directory = new("aot-");

    public string PublishDirectory => _directory.Combine("publish");

    public int ExitCode { get; private set; }

    public string Output { get; private set; } = string.Empty;

    public TimeSpan Duration { get; private set; }

    public IReadOnlyList<string> TrimAndAotWarnings => [.. WarningCode().Matches(Output).Select(m => m.Value).Distinct()];

    public async ValueTask InitializeAsync()
    {
        var project = Path.Combine(Repository.Root, "examples", "FileManagerServer", "FileManagerServer.csproj");
        var started = System.Diagnostics.Stopwatch.StartNew();

        // A separate artifacts path keeps the publish away from the tree's obj/ and bin/ (other builds may be running).
        // Warnings stay warnings here so that the test can list any IL2xxx/IL3xxx instead of a bare build failure.
        (ExitCode, Output) = await DotnetCli.RunAsync(
            ["publish", project, "-c", "Release", "-r", "linux-x64", "-o", PublishDirectory, "--artifacts-path", _directory.Combine("artifacts"),
             "-p:TreatWarningsAsErrors=false", "--disable-build-servers", "-nologo"],
            Repository.Root,
            TestContext.Current.CancellationToken);
        Duration = started.Elapsed;
    }

    public ValueTask DisposeAsync()
    {
        _directory.Dispose();
        return ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"\b(?:warning|error)\s+IL[23]\d{3}\b[^\r\n]*")]
    private static partial Regex WarningCode();
}

/// <summary>The NativeAOT build of a generated server: zero trim/AOT warnings, a native binary with its manifest, and it serves.</summary>
[Trait("Speed", "slow")]
public sealed class NativeAotPublishTests(NativeAotPublish publish) : IClassFixture<NativeAotPublish>
{
    private const string Id = "io.mmcp.examples.filemanager";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Publish_SucceedsWithoutTrimOrAotWarnings()
    {
        Assert.True(publish.ExitCode == 0, $"dotnet publish failed ({publish.ExitCode}):{Environment.NewLine}{publish.Output}");
        Assert.Empty(publish.TrimAndAotWarnings);
        TestContext.Current.SendDiagnosticMessage($"NativeAOT publish took {publish.Duration.TotalSeconds:F0} s");
    }

    [Fact]
    public async Task Publish_WritesANativeBinaryAndItsManifest()
    {
        Assert.Equal(0, publish.ExitCode);
        var binary = Path.Combine(publish.PublishDirectory, "FileManagerServer");
        var header = new byte[4];
        await using (var stream = File.OpenRead(binary))
        {
            await stream.ReadExactlyAsync(header, Ct);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), header);
        Assert.False(File.Exists(Path.Combine(publish.PublishDirectory, "FileManagerServer.dll")), "a NativeAOT publish has no IL assembly");
        var manifest = ManifestReader.ReadFile(Path.Combine(publish.PublishDirectory, Id + ".json")).Manifest!;
        Assert.Equal("./FileManagerServer", manifest.Launch!.Command);
        Assert.Equal("list_files", Assert.Single(manifest.Capabilities!.Tools).Name);
    }

    [Fact]
    public async Task NativeServer_InstallsAndServesToolsAndResourcesOverItsSocket()
    {
        Assert.Equal(0, publish.ExitCode);
        using var user = new TestUser();
        var options = new InstallOptions { Environment = user.Environment };
        options.LaunchArguments.Add("--root");
        options.LaunchArguments.Add(user.Shared);
        var installed = await ManifestInstaller.InstallAsync(Path.Combine(publish.PublishDirectory, "FileManagerServer"), options, Ct);

        await using var process = ServerProcess.Start(installed.Manifest.Launch!.Command, installed.Manifest.Launch.Args, user.Variables);
        var socket = await process.WaitUntilListeningAsync(Ct);
        await using var connection = await SocketClient.ConnectAsync(socket, Ct);
        var listing = await connection.Client.CallToolAsync("list_files", new Dictionary<string, object?> { ["path"] = "" }, cancellationToken: Ct);
        var file = await connection.Client.ReadResourceAsync(new Uri(Path.Combine(user.Shared, "hello.txt")).AbsoluteUri, cancellationToken: Ct);
        var invalid = await connection.Client.CallToolAsync("list_files", new Dictionary<string, object?> { ["path"] = 42 }, cancellationToken: Ct);

        Assert.Equal(((SocketTransport)installed.Manifest.Transport).Path, socket);
        Assert.Equal(["docs", "hello.txt"], listing.StructuredContent!.Value.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        Assert.Equal("Hello, files!", Assert.IsType<TextResourceContents>(Assert.Single(file.Contents)).Text);
        Assert.True(invalid.IsError);
        Assert.Equal("Invalid arguments for tool 'list_files': 'path' must be a string, not the number 42.", Assert.IsType<TextContentBlock>(Assert.Single(invalid.Content)).Text);
    }
}
