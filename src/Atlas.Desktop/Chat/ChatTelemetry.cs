using System.Diagnostics;
using System.Diagnostics.Metrics;
using Atlas.Desktop.Diagnostics;

namespace Atlas.Desktop.Chat;

/// <summary>Chat instruments on the <c>Atlas.Desktop</c> meter and spans on its activity source, named after the
/// OpenTelemetry GenAI conventions where they exist. No prompt, answer, tool argument or result is ever a tag.</summary>
internal static class ChatTelemetry
{
    public static readonly Counter<long> Generations = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.generations", "{generation}", "Generations started");

    public static readonly Counter<long> Outcomes = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.outcomes", "{answer}", "Chat answers ended, by model, status and code");

    public static readonly Counter<long> Deltas = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.deltas", "{delta}", "Text deltas received from the provider");

    public static readonly Counter<long> Tokens = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.tokens", "{token}", "Tokens reported by the provider, by model and gen_ai.token.type (input, output)");

    public static readonly Counter<double> Cost = AtlasTelemetry.Meter.CreateCounter<double>("atlas.chat.cost", "{USD}", "Provider credits spent (OpenRouter: US dollars), by model");

    public static readonly Counter<long> ToolCalls = AtlasTelemetry.Meter.CreateCounter<long>("atlas.chat.tool_calls", "{call}", "Tool calls, by outcome");

    public static readonly UpDownCounter<long> Active = AtlasTelemetry.Meter.CreateUpDownCounter<long>("atlas.chat.active", "{generation}", "Running generations");

    public static readonly Histogram<double> FirstDelta = AtlasTelemetry.Meter.CreateHistogram<double>("atlas.chat.first_delta", "s", "Time from the message to the first text");

    /// <summary>The GenAI convention's operation duration: one chat turn against the provider, tool rounds included.</summary>
    public static readonly Histogram<double> OperationDuration = AtlasTelemetry.Meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "GenAI operation duration");

    /// <summary>The GenAI convention's token usage, per turn and gen_ai.token.type.</summary>
    public static readonly Histogram<long> TokenUsage = AtlasTelemetry.Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used");

    /// <summary>The span of one chat turn against the provider (<c>chat {model}</c>, client); its HTTP calls and tool
    /// calls are its children. Null, with nothing allocated, when no one listens.</summary>
    public static Activity? StartChat(string model, string provider, Uri endpoint)
    {
        if (!AtlasTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = AtlasTelemetry.ActivitySource.StartActivity("chat " + model, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.provider.name", provider);
            activity.SetTag("gen_ai.request.model", model);
            activity.SetTag("server.address", endpoint.Host);
            activity.SetTag("server.port", endpoint.Port);
        }

        return activity;
    }

    /// <summary>The span of one tool call the model asked for (<c>execute_tool {name}</c>); the hub's MCP request is its
    /// child.</summary>
    public static Activity? StartTool(string name, string callId)
    {
        if (!AtlasTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = AtlasTelemetry.ActivitySource.StartActivity("execute_tool " + name, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", name);
            activity.SetTag("gen_ai.tool.call.id", callId);
            activity.SetTag("gen_ai.tool.type", "function");
        }

        return activity;
    }

    /// <summary>Records the end of a turn: answers, tokens, cost and duration per model, and the span's usage tags.</summary>
    public static void RecordTurn(Activity? activity, string model, string provider, string status, string? errorCode, string? finishReason,
        Atlas.Client.Protocol.ChatUsage? usage, TimeSpan elapsed)
    {
        var modelTag = new KeyValuePair<string, object?>("gen_ai.request.model", model);
        var providerTag = new KeyValuePair<string, object?>("gen_ai.provider.name", provider);
        var operation = new KeyValuePair<string, object?>("gen_ai.operation.name", "chat");
        Outcomes.Add(1, modelTag, new KeyValuePair<string, object?>("status", status), new KeyValuePair<string, object?>("code", errorCode));
        var duration = new TagList { operation, modelTag, providerTag };
        if (errorCode is not null)
        {
            duration.Add("error.type", errorCode);
            AtlasTelemetry.Fail(activity, errorCode);
        }

        OperationDuration.Record(elapsed.TotalSeconds, duration);
        if (finishReason is not null)
        {
            activity?.SetTag("gen_ai.response.finish_reasons", new[] { finishReason });
        }

        if (usage is null)
        {
            return;
        }

        RecordTokens(usage.PromptTokens, "input");
        RecordTokens(usage.CompletionTokens, "output");
        if (usage.Cost is { } cost)
        {
            Cost.Add((double)cost, modelTag);
        }

        activity?.SetTag("gen_ai.usage.input_tokens", usage.PromptTokens);
        activity?.SetTag("gen_ai.usage.output_tokens", usage.CompletionTokens);

        void RecordTokens(long count, string type)
        {
            var tags = new TagList { operation, modelTag, providerTag, { "gen_ai.token.type", type } };
            Tokens.Add(count, tags);
            TokenUsage.Record(count, tags);
        }
    }
}
