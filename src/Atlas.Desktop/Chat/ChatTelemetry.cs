using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Desktop.Diagnostics;
using Microsoft.Extensions.AI;

namespace Atlas.Desktop.Chat;

/// <summary>Chat instruments on the <c>Atlas.Desktop</c> meter and spans on its activity source, named after the
/// OpenTelemetry GenAI conventions where they exist. No prompt, answer, tool argument or result is ever a tag, unless
/// the user opts into content capture (<c>OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true</c>): then the
/// <c>Capture…</c> methods add the GenAI conventions' opt-in attributes (<c>gen_ai.input.messages</c>,
/// <c>gen_ai.output.messages</c>, <c>gen_ai.tool.call.arguments</c>, <c>gen_ai.tool.call.result</c>).</summary>
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

    /// <summary>Content capture (opt-in only): the messages sent to the model, as the GenAI convention's
    /// <c>gen_ai.input.messages</c> (role and text parts; tool calls and results by id and name).</summary>
    public static void CaptureInput(Activity? activity, IEnumerable<ChatMessage> messages)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        var array = new JsonArray();
        foreach (var message in messages)
        {
            var parts = new JsonArray();
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent text:
                        parts.Add(new JsonObject { ["type"] = "text", ["content"] = text.Text });
                        break;
                    case FunctionCallContent call:
                        parts.Add(new JsonObject { ["type"] = "tool_call", ["id"] = call.CallId, ["name"] = call.Name });
                        break;
                    case FunctionResultContent result:
                        parts.Add(new JsonObject { ["type"] = "tool_call_response", ["id"] = result.CallId });
                        break;
                }
            }

            array.Add(new JsonObject { ["role"] = message.Role.Value, ["parts"] = parts });
        }

        activity.SetTag("gen_ai.input.messages", array.ToJsonString());
    }

    /// <summary>Content capture (opt-in only): the answer's text as <c>gen_ai.output.messages</c>.</summary>
    public static void CaptureOutput(Activity? activity, string text, string finishReason)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["parts"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = text }),
            ["finish_reason"] = finishReason,
        };
        activity.SetTag("gen_ai.output.messages", new JsonArray(message).ToJsonString());
    }

    /// <summary>Content capture (opt-in only): a tool call's arguments and result text.</summary>
    public static void CaptureTool(Activity? activity, IEnumerable<KeyValuePair<string, object?>> arguments, string? result)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        var args = new JsonObject();
        foreach (var (key, value) in arguments)
        {
            args[key] = value switch
            {
                null => null,
                JsonElement element => JsonNode.Parse(element.GetRawText()),
                _ => JsonValue.Create(value.ToString()),
            };
        }

        activity.SetTag("gen_ai.tool.call.arguments", args.ToJsonString());
        if (result is not null)
        {
            activity.SetTag("gen_ai.tool.call.result", result);
        }
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
