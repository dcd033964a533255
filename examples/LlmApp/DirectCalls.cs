using Mmcp.Client;

namespace LlmApp;

/// <summary>The hub's direct-call API without a model (quoted in docs/mmcp-hub.md): <c>dotnet run --project examples/LlmApp -- --direct</c>.</summary>
internal static class DirectCalls
{
    public static async Task<int> RunAsync(MmcpHub hub, CancellationToken cancellationToken = default)
    {
        var discovery = await hub.DiscoverServersAsync(cancellationToken);
        foreach (var server in discovery.Servers)
        {
            Console.WriteLine($"{server.Id} ({server.Manifest.Transport.Type}) from {server.Server.Provenance}");
        }

        var tools = await hub.ListToolsAsync(cancellationToken: cancellationToken);
        foreach (var failed in tools.Failures)
        {
            Console.WriteLine($"{failed.ServerId} is unavailable: {failed.Failure!.Message}");
        }

        if (tools.Tools.FirstOrDefault(t => t.ToolName == "list_files") is not { } listFiles)
        {
            Console.WriteLine("No server offers list_files; install examples/FileManagerServer (dotnet run --project examples/FileManagerServer -- --mmcp-register).");
            return 0;
        }

        try
        {
            var result = await hub.CallToolAsync(listFiles.ServerId, "list_files", new Dictionary<string, object?> { ["path"] = "" }, cancellationToken: cancellationToken);
            Console.WriteLine(result.IsError == true ? $"The tool failed: {HubToolResults.GetText(result)}" : HubToolResults.GetText(result));
        }
        catch (HubException ex) when (ex.Code is HubErrorCode.LaunchFailed or HubErrorCode.ServerCrashed)
        {
            Console.WriteLine($"{ex.Code}: {ex.Message}");
            foreach (var line in ex.Failure?.StandardErrorTail ?? [])
            {
                Console.WriteLine($"  {line}");
            }
        }

        return 0;
    }
}
