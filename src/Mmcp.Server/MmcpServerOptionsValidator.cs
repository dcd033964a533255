using Microsoft.Extensions.Options;
using Mmcp.Core.Manifests;
using Mmcp.Server.Sockets;

namespace Mmcp.Server;

/// <summary>Fails host start-up with a message that says how to fix a bad server configuration.</summary>
internal sealed class MmcpServerOptionsValidator : IValidateOptions<MmcpServerOptions>
{
    public ValidateOptionsResult Validate(string? name, MmcpServerOptions options)
    {
        var failures = new List<string>();
        if (ServerIds.ExplainManifestId(options.Id) is { } idProblem)
        {
            failures.Add($"Mmcp server id {idProblem}. Set it with [McpServer(\"com.example.app\", ...)] or MmcpServerOptions.Id.");
        }

        Require(options.Name, nameof(options.Name));
        Require(options.Description, nameof(options.Description));
        Require(options.Version, nameof(options.Version));
        if (options.Version.Any(char.IsWhiteSpace))
        {
            failures.Add($"Mmcp server version '{options.Version}' must not contain spaces.");
        }

        if (options.MaxConnections < 1)
        {
            failures.Add($"MmcpServerOptions.MaxConnections is {options.MaxConnections}; it must be at least 1.");
        }

        if (options.ShutdownGracePeriod < TimeSpan.Zero)
        {
            failures.Add("MmcpServerOptions.ShutdownGracePeriod must not be negative.");
        }

        if (failures.Count == 0)
        {
            try
            {
                _ = SocketPaths.Resolve(options);
            }
            catch (ArgumentException ex)
            {
                failures.Add(ex.Message);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Require(string value, string property)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"Mmcp server {property.ToLowerInvariant()} is empty. Set it with [McpServer(...)] or MmcpServerOptions.{property}.");
            }
        }
    }
}
