using FileManagerServer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A third-party app exposing MCP tools: annotate a partial class, call AddMmcpServer<T>(), done. The source generator
// registers the tools without reflection (so the app also publishes as NativeAOT); the app listens on its own Unix
// socket and writes its manifest into the registry, so every hub on this computer discovers it with no configuration.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

var root = ArgValue(args, "--root") ?? Environment.GetEnvironmentVariable("FILEMANAGER_ROOT") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
builder.Services.AddSingleton(new FileRoot(root));
builder.Services.AddMmcpServer<FileManager>(options =>
{
    options.LaunchArguments.Add("--root");
    options.LaunchArguments.Add(Path.GetFullPath(root));
});

return await builder.Build().RunMmcpAsync(args);

static string? ArgValue(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
