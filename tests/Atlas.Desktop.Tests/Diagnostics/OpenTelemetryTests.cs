using System.Collections.Concurrent;
using Atlas.Client.Protocol;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Atlas.Desktop.Tests.Telemetry.Otlp;
using Google.Protobuf;
using Mmcp.Client;
using ModelContextProtocol.Protocol;
using OpenTelemetry.Metrics;
using OpenTelemetry.Proto.Trace.V1;
using OpenTelemetry.Trace;
using static Atlas.Desktop.Tests.Chat.ChatHost;

namespace Atlas.Desktop.Tests.Diagnostics;

/// <summary>OpenTelemetry export from a real atlas host to a real OTLP/HTTP receiver (official protobuf messages): a phone's
/// chat turn with a tool call into a real MCP server is one connected trace, metrics carry their units, and no secret or
/// prompt text is exported.</summary>
public sealed class OpenTelemetryTests
{
    private const string Secret = "prompt words a7f3c9";
    private const string ToolArgument = "tool argument b81d2e";
    private const string Answer = "answer words c40e77";
    private const string CallId = "call_otel_turn";

    /// <summary>One turn: frame → chat span → provider HTTP calls and execute_tool → hub MCP request → the upstream server
    /// (trace context in <c>params._meta</c>), every span parented inside one trace, none carrying content.</summary>
    [Fact]
    [Trait("Issue15", "5")]
    [Trait("Speed", "slow")] // server-everything: a Node peer
    public async Task ChatTurnWithToolCall_WithOtlpOn_IsOneConnectedTraceWithoutSecrets()
    {
        await using var otlp = await OtlpReceiver.StartAsync(Ct);
        await using var chat = await ToolTests.StartWithEverythingAsync(Otlp(otlp));
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        var toServer = new ConcurrentQueue<JsonRpcRequest>();
        using var tap = chat.Host.Get<MmcpHub>().ObserveTraffic(null, e =>
        {
            if (e.Message is JsonRpcRequest { Method: "tools/call" } request)
            {
                toServer.Enqueue(request);
            }
        });
        chat.Fake.Enqueue(FakeReply.ToolCalls((CallId, ToolTests.Echo, $$"""{"message":"{{ToolArgument}}"}""")));
        chat.Fake.Responder = _ => FakeReply.Text(Answer);

        var events = await AllAsync(phone.Chat.SendAsync(Message(Secret), cancellationToken: Ct));
        Assert.Equal(ChatEventKinds.Done, events[^1].Kind);
        chat.Host.Get<TracerProvider>().ForceFlush();
        // The turn's span ends just after the phone has its last event, so it may reach the receiver in a later batch
        // than its children: wait for the whole trace (a root, and every other span's parent present).
        await otlp.WaitUntilAsync(r => ToolSpan(r, CallId) is { } tool && IsWhole([.. r.Spans.Select(s => s.Span).Where(s => s.TraceId == tool.TraceId)]), TestTimeouts.Default, Ct);

        var traceId = ToolSpan(otlp, CallId)!.TraceId;
        var trace = otlp.Spans.Select(s => s.Span).Where(s => s.TraceId == traceId).ToList();
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        var root = Assert.Single(trace, s => s.ParentSpanId.IsEmpty);
        Assert.Equal("atlas.ws chat_message", root.Name);
        Assert.Equal(Span.Types.SpanKind.Server, root.Kind);
        Assert.All(trace.Where(s => s != root), s => Assert.Contains(s.ParentSpanId, ids)); // connected: no orphan

        var turn = Assert.Single(trace, s => Attr(s, "gen_ai.operation.name") == "chat");
        Assert.Equal(("chat " + chat.Fake.Requests[0].Model, "openai"), (turn.Name, Attr(turn, "gen_ai.provider.name")));
        Assert.Equal(chat.Fake.Requests[0].Model, Attr(turn, "gen_ai.request.model"));
        Assert.NotNull(Attr(turn, "gen_ai.usage.input_tokens"));
        Assert.NotNull(Attr(turn, "gen_ai.usage.output_tokens"));
        var http = trace.Where(s => s.Kind == Span.Types.SpanKind.Client && Attr(s, "http.request.method") == "POST").ToList();
        Assert.Equal(2, http.Count); // the two provider calls: tool round and answer
        Assert.All(http, h => Assert.Equal(turn.SpanId, h.ParentSpanId));
        Assert.All(chat.Fake.Requests, r => Assert.Contains(Hex(traceId), r.Headers["traceparent"], StringComparison.Ordinal));

        var tool = ToolSpan(otlp, CallId)!;
        Assert.Equal(turn.SpanId, tool.ParentSpanId);
        var mcp = trace.Where(s => Attr(s, "mcp.method.name") == "tools/call").ToList();
        Assert.NotEmpty(mcp);
        Assert.All(mcp, s => Assert.Equal("echo", Attr(s, "gen_ai.tool.name")));
        Assert.Contains(mcp, s => s.ParentSpanId == tool.SpanId && Attr(s, "network.transport") == "pipe");

        // The upstream server got the trace context in the request's _meta (stdio has no headers).
        var sent = Assert.Single(toServer, r => r.Params?["arguments"]?["message"]?.GetValue<string>() == ToolArgument);
        Assert.Contains(Hex(traceId), sent.Params!["_meta"]!["traceparent"]!.GetValue<string>(), StringComparison.Ordinal);

        // Privacy: no prompt, argument, answer, API key or device credential anywhere in what was exported.
        var exported = string.Join('\n', otlp.AllExportedText());
        foreach (var secret in new[] { Secret, ToolArgument, Answer, FakeOpenRouter.ApiKey, phone.Client.Credentials.Credential })
        {
            Assert.DoesNotContain(secret, exported, StringComparison.Ordinal);
        }
    }

    /// <summary>With the user's explicit opt-in (<c>OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true</c>) the turn's
    /// span carries the prompt and the answer and the tool's span its arguments and result, in the GenAI convention's
    /// attributes; the API key and the device credential still appear nowhere.</summary>
    [Fact]
    [Trait("Issue15", "2")]
    [Trait("Speed", "slow")] // server-everything: a Node peer
    public async Task ChatTurnWithToolCall_WithContentCaptureOptIn_ExportsMessagesButNoSecrets()
    {
        await using var otlp = await OtlpReceiver.StartAsync(Ct);
        var settings = Otlp(otlp);
        settings["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true";
        await using var chat = await ToolTests.StartWithEverythingAsync(settings);
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        const string CaptureCallId = "call_otel_capture";
        chat.Fake.Enqueue(FakeReply.ToolCalls((CaptureCallId, ToolTests.Echo, $$"""{"message":"{{ToolArgument}}"}""")));
        chat.Fake.Responder = _ => FakeReply.Text(Answer);

        Assert.Equal(ChatEventKinds.Done, (await AllAsync(phone.Chat.SendAsync(Message(Secret), cancellationToken: Ct)))[^1].Kind);
        chat.Host.Get<TracerProvider>().ForceFlush();
        await otlp.WaitUntilAsync(r => ToolSpan(r, CaptureCallId) is { } tool && r.Spans.Any(s => s.Span.TraceId == tool.TraceId && Attr(s.Span, "gen_ai.output.messages") is not null), TestTimeouts.Default, Ct);

        var tool = ToolSpan(otlp, CaptureCallId)!;
        Assert.Contains(ToolArgument, Attr(tool, "gen_ai.tool.call.arguments"), StringComparison.Ordinal);
        Assert.Contains(ToolArgument, Attr(tool, "gen_ai.tool.call.result"), StringComparison.Ordinal); // echo answers with it
        var turn = Assert.Single(otlp.Spans.Select(s => s.Span), s => s.TraceId == tool.TraceId && Attr(s, "gen_ai.operation.name") == "chat");
        Assert.Contains(Secret, Attr(turn, "gen_ai.input.messages"), StringComparison.Ordinal);
        Assert.Contains(Answer, Attr(turn, "gen_ai.output.messages"), StringComparison.Ordinal);

        var exported = string.Join('\n', otlp.AllExportedText());
        foreach (var secret in new[] { FakeOpenRouter.ApiKey, phone.Client.Credentials.Credential })
        {
            Assert.DoesNotContain(secret, exported, StringComparison.Ordinal);
        }
    }

    /// <summary>The metrics a chat turn records reach OTLP with the GenAI and MCP names and their units (seconds, tokens);
    /// no duration anywhere is in milliseconds.</summary>
    [Fact]
    [Trait("Issue15", "3")]
    [Trait("Speed", "slow")] // server-everything: a Node peer
    public async Task ChatTurn_WithOtlpOn_ExportsMetricsWithSemconvNamesAndUnits()
    {
        await using var otlp = await OtlpReceiver.StartAsync(Ct);
        await using var chat = await ToolTests.StartWithEverythingAsync(Otlp(otlp));
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_otel_metrics", ToolTests.Echo, """{"message":"m"}""")));
        chat.Fake.Responder = _ => FakeReply.Text("done");
        Assert.Equal(ChatEventKinds.Done, (await AllAsync(phone.Chat.SendAsync(Message("metrics please"), cancellationToken: Ct)))[^1].Kind);

        var expected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["gen_ai.client.operation.duration"] = "s",
            ["gen_ai.client.token.usage"] = "{token}",
            ["mcp.client.operation.duration"] = "s",
            ["mmcp.client.request.duration"] = "s",
            ["mmcp.client.requests"] = "{request}",
            ["atlas.ws.request.duration"] = "s",
            ["atlas.chat.first_delta"] = "s",
            ["atlas.chat.tokens"] = "{token}",
            ["atlas.chat.outcomes"] = "{answer}",
            ["atlas.ws.connections"] = "{connection}",
        };
        chat.Host.Get<MeterProvider>().ForceFlush();
        await otlp.WaitUntilAsync(r => expected.Keys.All(n => r.Metrics.Any(m => m.Name == n)), TestTimeouts.Default, Ct);

        foreach (var (name, unit) in expected)
        {
            Assert.All(otlp.Metrics.Where(m => m.Name == name), m => Assert.Equal(unit, m.Unit));
        }

        var ours = otlp.Metrics.Where(m => m.Name.StartsWith("atlas.", StringComparison.Ordinal) || m.Name.StartsWith("mmcp.", StringComparison.Ordinal) || m.Name.StartsWith("gen_ai.", StringComparison.Ordinal));
        Assert.DoesNotContain(ours, m => m.Unit == "ms");
        var tokens = otlp.Metrics.Where(m => m.Name == "gen_ai.client.token.usage").SelectMany(m => m.Histogram.DataPoints).ToList();
        Assert.Contains(tokens, p => p.Attributes.Any(a => a.Key == "gen_ai.token.type" && a.Value.StringValue == "input"));
        Assert.Contains(tokens, p => p.Attributes.Any(a => a.Key == "gen_ai.token.type" && a.Value.StringValue == "output"));
    }

    /// <summary>Off by default: no OTLP variable and no --metrics means no OpenTelemetry provider at all, so nothing
    /// listens to the project's sources on its behalf (the helpers then return before naming a span).</summary>
    [Fact]
    [Trait("Issue15", "1")]
    public async Task Host_WithoutOtlpOrMetrics_BuildsNoProvider()
    {
        await using var host = await AtlasTestHost.StartAsync();

        Assert.Null(host.App.Services.GetService(typeof(TracerProvider)));
        Assert.Null(host.App.Services.GetService(typeof(MeterProvider)));
    }

    /// <summary><c>Atlas:Telemetry:Prometheus=true</c> serves Prometheus text on its own loopback port, with the
    /// project's metrics in seconds; the phone-facing port never serves /metrics, and the metrics port serves nothing else.</summary>
    [Fact]
    [Trait("Issue15", "1")]
    public async Task Prometheus_WhenOn_ServesMetricsOnItsLoopbackPortOnly()
    {
        var port = FreePort();
        await using var chat = await ChatHost.StartAsync(new Dictionary<string, string?>
        {
            ["Atlas:Telemetry:Prometheus"] = "true",
            ["Atlas:Telemetry:PrometheusPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var phone = await chat.PhoneAsync();
        chat.Fake.Enqueue(FakeReply.Text("hello"));
        Assert.Equal(ChatEventKinds.Done, (await AllAsync(phone.Chat.SendAsync(Message("hi"), cancellationToken: Ct)))[^1].Kind);
        using var http = new HttpClient { Timeout = TestTimeouts.Default };

        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"), Ct);
        Assert.Contains("# TYPE gen_ai_client_operation_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("atlas_ws_connections", text, StringComparison.Ordinal);
        Assert.DoesNotContain("milliseconds", text, StringComparison.Ordinal);
        using var other = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health"), Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, other.StatusCode);
        using var pinned = chat.Host.PinnedHttp();
        using var phoneFacing = await pinned.GetAsync(new Uri(chat.Host.BaseUri, "/metrics"), Ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, phoneFacing.StatusCode);
    }

    /// <summary>The admin API's live numbers come from the in-process listener with every exporter off: a tool call
    /// counts for its server with a latency, and the turn's tokens and spend for its model.</summary>
    [Fact]
    [Trait("Issue15", "4")]
    [Trait("Speed", "slow")] // server-everything: a Node peer
    public async Task AdminMetrics_AfterAChatTurnWithATool_CountsServerCallsAndModelTokens()
    {
        await using var chat = await ToolTests.StartWithEverythingAsync();
        var phone = await chat.PhoneAsync("Phone", Permissions.Tools);
        chat.Fake.Enqueue(FakeReply.ToolCalls(("call_admin_metrics", ToolTests.Echo, """{"message":"x"}""")));
        chat.Fake.Responder = _ => FakeReply.Text("ok", promptTokens: 21, cost: 0.5m);
        Assert.Equal(ChatEventKinds.Done, (await AllAsync(phone.Chat.SendAsync(Message("go"), cancellationToken: Ct)))[^1].Kind);
        using var admin = await Atlas.Desktop.Tests.Admin.AdminClient.SignInAsync(chat.Host);

        using var response = await admin.SendAsync(HttpMethod.Get, "metrics");
        var json = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;

        var server = json["servers"]!.AsArray().Single(s => (string?)s!["server"] == "io.github.everything")!;
        Assert.True((long)server["calls"]! >= 1);
        Assert.True((double)server["p50"]! > 0);
        var model = json["models"]!.AsArray().Single(m => (string?)m!["model"] == chat.Fake.Requests[0].Model)!;
        Assert.True((long)model["inputTokens"]! >= 21 && (long)model["outputTokens"]! > 0);
        Assert.True((double)model["spend"]! >= 0.5);
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static Dictionary<string, string?> Otlp(OtlpReceiver otlp) => new(StringComparer.Ordinal)
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
    };

    private static bool IsWhole(List<Span> trace) =>
        trace.Count >= 6
        && trace.Any(s => s.ParentSpanId.IsEmpty)
        && trace.All(s => s.ParentSpanId.IsEmpty || trace.Any(p => p.SpanId == s.ParentSpanId));

    private static Span? ToolSpan(OtlpReceiver otlp, string callId) =>
        otlp.Spans.Select(s => s.Span).FirstOrDefault(s => s.Name.StartsWith("execute_tool ", StringComparison.Ordinal) && Attr(s, "gen_ai.tool.call.id") == callId);

    private static string? Attr(Span span, string key) =>
        span.Attributes.FirstOrDefault(a => a.Key == key)?.Value is { } v
            ? v.ValueCase switch
            {
                OpenTelemetry.Proto.Common.V1.AnyValue.ValueOneofCase.StringValue => v.StringValue,
                OpenTelemetry.Proto.Common.V1.AnyValue.ValueOneofCase.IntValue => v.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => v.ToString(),
            }
            : null;

    private static string Hex(ByteString id) => Convert.ToHexStringLower(id.ToByteArray());
}
