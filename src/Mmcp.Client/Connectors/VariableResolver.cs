using System.Text.RegularExpressions;
using Mmcp.Core.Registry;
using Mmcp.Core.Registry.Imports;

namespace Mmcp.Client.Connectors;

/// <summary>
/// Resolves <c>${env:NAME}</c> (from the environment) and <c>${input:ID}</c> (from <c>MMCP_INPUT_&lt;ID&gt;</c>, else the
/// value stored by <c>mmcp config inputs set ID</c>) in a server definition when it starts, failing with the name of the
/// missing variable or input, where it is used, and how to supply it.
/// </summary>
internal static partial class VariableResolver
{
    public static string Resolve(string value, MmcpEnvironment environment, DiscoveredServer server, string field)
    {
        if (!value.Contains("${", StringComparison.Ordinal))
        {
            return value;
        }

        IReadOnlyDictionary<string, string>? stored = null;
        return Reference().Replace(value, match =>
        {
            var kind = match.Groups[1].Value;
            var name = match.Groups[2].Value;
            var variable = kind == "env" ? name : ClientConfigSource.InputVariable(name);
            if (environment.Get(variable) is { } resolved)
            {
                return resolved; // the environment wins over a stored input
            }

            if (kind == "input")
            {
                stored ??= ReadStore(environment, server);
                if (stored.TryGetValue(name, out var input))
                {
                    return input;
                }

                throw new HubException(
                    HubErrorCode.ConfigurationError,
                    server.Id,
                    $"Server '{server.Id}' cannot start: {field} uses ${{input:{name}}}, but input '{name}' has no value. Run 'mmcp config inputs set {name}' (it asks for the value and stores it privately), or set the environment variable {variable}; the input is declared in {server.Provenance}.");
            }

            throw new HubException(
                HubErrorCode.ConfigurationError,
                server.Id,
                $"Server '{server.Id}' cannot start: {field} uses ${{env:{name}}}, but the environment variable {variable} is not set. Set it in the environment of the program that runs the hub, or edit the definition in {server.Provenance}.");
        });
    }

    private static IReadOnlyDictionary<string, string> ReadStore(MmcpEnvironment environment, DiscoveredServer server)
    {
        var store = InputStore.For(environment);
        try
        {
            return store.Read();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HubException(HubErrorCode.ConfigurationError, server.Id, $"Server '{server.Id}' cannot start: the stored inputs in {store.Path} cannot be read: {ex.Message}", ex);
        }
    }

    public static Dictionary<string, string> ResolveAll(IReadOnlyDictionary<string, string> values, MmcpEnvironment environment, DiscoveredServer server, string field, IEqualityComparer<string> comparer) =>
        values.ToDictionary(p => p.Key, p => Resolve(p.Value, environment, server, $"{field}.{p.Key}"), comparer);

    [GeneratedRegex(@"\$\{(env|input):([^}]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();
}
