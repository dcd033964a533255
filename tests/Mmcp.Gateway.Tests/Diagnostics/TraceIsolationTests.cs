using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Mmcp.Gateway.Tests.Diagnostics;

/// <summary>Every request through the gateway is a trace of its own: work that outlives a request (the hub's connection,
/// the SDK's message loop, the catalog's refresh) never keeps that request's trace for later requests.</summary>
public sealed class TraceIsolationTests
{
    private static readonly HashSet<string> Sources = new(StringComparer.Ordinal) { "Microsoft.AspNetCore", "Mmcp.Gateway", "Mmcp.Client", "Experimental.ModelContextProtocol" };

    /// <summary>Two REST tool calls (the first one connects the server) get two trace ids, each with the ASP.NET Core
    /// request span as the root, the gateway's span under it and the hub's span under that; and once the first call has
    /// answered, nothing joins its trace: not the server's list-change notification, the catalog's reload or later calls.</summary>
    [Fact]
    [Trait("Issue15", "trace-isolation")]
    public async Task RestCalls_AfterTheFirstConnects_AreTracesOfTheirOwnAndNothingJoinsTheFirst()
    {
        const string Server = "io.test.traces";
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Listen(spans);
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer(Server));
        await using var gateway = await GatewayHost.StartAsync(env);

        var first = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_traces__echo","arguments":{"text":"one"}}""");
        var firstTrace = Assert.Single(spans, s => s.Source.Name == "Mmcp.Gateway" && Equals(s.GetTagItem("mmcp.server"), Server)).TraceId;
        var answered = spans.Count;
        var added = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_traces__add_tool","arguments":{"name":"late"}}""");
        var listed = await gateway.PostJsonAsync("/mcp/tools/list", "{}");
        var second = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_traces__echo","arguments":{"text":"two"}}""");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], new[] { first.Status, added.Status, listed.Status, second.Status });
        Assert.Contains("io_test_traces__late", listed.Body, StringComparison.Ordinal); // the notification arrived and the catalog reloaded
        var ours = spans.ToList();
        Assert.DoesNotContain(ours.Skip(answered), s => s.TraceId == firstTrace);
        var calls = ours.Where(s => s.Source.Name == "Mmcp.Gateway" && Equals(s.GetTagItem("mmcp.server"), Server)).ToList();
        Assert.Equal(3, calls.Count);
        Assert.Equal(3, calls.Select(c => c.TraceId).Distinct().Count());
        foreach (var call in calls)
        {
            var request = Assert.Single(ours, s => s.Source.Name == "Microsoft.AspNetCore" && s.SpanId == call.ParentSpanId);
            Assert.Equal(default, request.ParentSpanId); // the request is the root of its trace
            Assert.Contains(ours, s => s.Source.Name == "Mmcp.Client" && s.ParentSpanId == call.SpanId && ((string)s.GetTagItem("mcp.method.name")!) == "tools/call");
        }
    }

    /// <summary>The gateway's span names the tool the client called (the aggregated name) and carries the upstream
    /// name as <c>mmcp.tool</c>; the hub's span keeps the upstream name.</summary>
    [Fact]
    [Trait("Issue15", "tool-name")]
    public async Task GatewayToolCallSpan_ByAggregatedName_NamesTheAggregatedTool()
    {
        const string Server = "io.test.spanname";
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Listen(spans);
        using var env = new TestEnvironment();
        await env.WriteManifestAsync(Servers.TestServer(Server));
        await using var gateway = await GatewayHost.StartAsync(env);

        var call = await gateway.PostJsonAsync("/mcp/tools/call", """{"name":"io_test_spanname__echo","arguments":{"text":"x"}}""");

        Assert.Equal(HttpStatusCode.OK, call.Status);
        var span = Assert.Single(spans, s => s.Source.Name == "Mmcp.Gateway" && Equals(s.GetTagItem("mmcp.server"), Server));
        Assert.Equal("tools/call io_test_spanname__echo", span.DisplayName);
        Assert.Equal("io_test_spanname__echo", span.GetTagItem("gen_ai.tool.name"));
        Assert.Equal("echo", span.GetTagItem("mmcp.tool"));
        Assert.Contains(spans, s => s.Source.Name == "Mmcp.Client" && s.ParentSpanId == span.SpanId && Equals(s.GetTagItem("gen_ai.tool.name"), "echo"));
    }

    private static ActivityListener Listen(ConcurrentQueue<Activity> spans)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => Sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = spans.Enqueue, // ids are fixed at the start; the request span may stop after the client has its answer
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
