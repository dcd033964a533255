using Mmcp.Gateway.Diagnostics;

namespace Mmcp.Gateway.Tests.Diagnostics;

/// <summary>Mmcp.Gateway's log event ids against its one registry, <see cref="LogEventIds"/>.</summary>
public sealed class LogEventIdsTests
{
    /// <summary>Every [LoggerMessage] of Mmcp.Gateway has a unique id inside its own area's range of LogEventIds.</summary>
    [Fact]
    [Trait("Issue13", "event-ids")]
    public void LoggerMessages_OfTheAssembly_HaveUniqueIdsInTheirAreasRange()
    {
        var assembly = typeof(LogEventIds).Assembly;

        Assert.True(LogEventIdChecks.Count(assembly) > 0, "No [LoggerMessage] method found: the check would prove nothing.");
        Assert.Empty(LogEventIdChecks.Problems(assembly, LogEventIds.Ranges));
    }

    /// <summary><c>mmcp serve</c> logs the gateway, the hub and Mmcp.Core into one stream: no event id and no range of
    /// LogEventIds is shared by two of them.</summary>
    [Fact]
    [Trait("Leftovers", "event-ids")]
    public void LoggerMessages_OfEveryAssemblyInTheGatewayProcess_HaveDisjointIdsAndRanges()
    {
        var problems = LogEventIdChecks.ProcessProblems(typeof(LogEventIds).Assembly, out var assemblies);

        Assert.Contains("Mmcp.Core", assemblies);
        Assert.Contains("Mmcp.Client", assemblies);
        Assert.Empty(problems);
    }
}
