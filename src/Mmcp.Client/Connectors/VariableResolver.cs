using System.Text.RegularExpressions;
using Mmcp.Core.Registry;
using Mmcp.Core.Registry.Imports;

namespace Mmcp.Client.Connectors;

/// <summary>
/// Resolves <c>${env:NAME}</c> (from the environment) and <c>${input:ID}</c> (from <c>MMCP_INPUT_&lt;ID&gt;</c>) in a
/// server definition when it starts, failing with the name of the missing variable and where it is used.
/// </summary>
internal static partial class VariableResolver
{
    public static string Resolve(string value, MmcpEnvironment environment, DiscoveredServer server, string field)
    {
        if (!value.Contains("${", StringComparison.Ordinal))
        {
            return value;
        }

        return Reference().Replace(value, match =>
        {
            var kind = match.Groups[1].Value;
            var name = match.Groups[2].Value;
            var variable = kind == "env" ? name : ClientConfigSource.InputVariable(name);
            if (environment.Get(variable) is { } resolved)
            {
                return resolved;
            }

            var what = kind == "env"
                ? $"the environment variable {variable} is not set"
                : $"input '{name}' has no value: set the environment variable {variable}";
            throw new HubException(
                HubErrorCode.ConfigurationError,
                server.Id,
                $"Server '{server.Id}' cannot start: {field} uses ${{{kind}:{name}}}, but {what}. Set it in the environment of the program that runs the hub, or edit the definition in {server.Provenance}.");
        });
    }

    public static Dictionary<string, string> ResolveAll(IReadOnlyDictionary<string, string> values, MmcpEnvironment environment, DiscoveredServer server, string field, IEqualityComparer<string> comparer) =>
        values.ToDictionary(p => p.Key, p => Resolve(p.Value, environment, server, $"{field}.{p.Key}"), comparer);

    [GeneratedRegex(@"\$\{(env|input):([^}]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();
}
