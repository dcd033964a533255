using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Chat.Llm;
using Atlas.Desktop.Chat.Tools;
using Atlas.Desktop.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Chat.Generations;

/// <summary>Drives one generation against the provider, independent of any connection: text becomes <c>delta</c>
/// events, tool calls and results become <c>tool_call</c>/<c>tool_result</c> events (the hub's tools run through
/// Microsoft.Extensions.AI's function invocation, capped at <c>Atlas:Chat:MaxToolRounds</c> rounds), and the end becomes
/// exactly one terminal event. The text is checkpointed while it streams and saved at the end.</summary>
internal sealed class GenerationRunner
{
    public const string NoticeToolRounds = "tool_rounds_exceeded";
    private const int MaxToolDisplayChars = 4000;
    private readonly LlmClientFactory _llm;
    private readonly IConversationStore _store;
    private readonly IChatToolProvider _tools;
    private readonly ChatFeatureOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger<GenerationRunner> _logger;
    private readonly bool _captureContent;

    public GenerationRunner(LlmClientFactory llm, IConversationStore store, IChatToolProvider tools, IOptions<AtlasOptions> options, AtlasTime time,
        ILoggerFactory loggerFactory, IConfiguration configuration)
    {
        // Content capture is the user's explicit opt-in (docs/observability.md, "The privacy rule"); off, nothing of a
        // prompt, answer or tool call is ever put on a span.
        _captureContent = global::Shared.Telemetry.OpenTelemetrySetup.CaptureContent(configuration);
        _llm = llm;
        _store = store;
        _tools = tools;
        _options = options.Value.Chat;
        _time = time.Provider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<GenerationRunner>();
    }

    /// <summary>Starts the generation on the thread pool; it ends on its own or through <see cref="Generation.RequestStop"/>.</summary>
    public Task StartAsync(Generation generation, GenerationPlan plan) =>
        Task.Run(() => RunAsync(generation, plan), CancellationToken.None);

    private async Task RunAsync(Generation generation, GenerationPlan plan)
    {
        ChatTelemetry.Generations.Add(1);
        ChatTelemetry.Active.Add(1);
        ChatLog.GenerationStarted(_logger, generation.MessageId, generation.DeviceId, plan.Model);
        var observer = new ProviderObserver();
        var outcomes = new ConcurrentDictionary<string, ChatToolResult>(StringComparer.Ordinal);
        var functions = plan.Tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var checkpoints = new Checkpoints(this, generation);
        var provider = _llm.IsOpenRouter ? "openrouter" : "openai";
        using var activity = ChatTelemetry.StartChat(plan.Model, provider, _llm.Endpoint);
        var started = _time.GetTimestamp();
        long deltas = 0;
        var captured = _captureContent && activity is not null ? new StringBuilder() : null;
        ChatEvent terminal;
        try
        {
            var messages = plan.Messages;
            if (plan.After.Count > 0 && plan.Rebuild is { } rebuild)
            {
                // An earlier answer in this conversation is still streaming: this turn waits for it (Finished only
                // ever completes, however the answer ends) and then reads the history as saved, that answer included.
                await Task.WhenAll(plan.After).WaitAsync(generation.StopToken).ConfigureAwait(false);
                messages = await rebuild(generation.StopToken).ConfigureAwait(false);
            }

            if (captured is not null)
            {
                ChatTelemetry.CaptureInput(activity, messages);
            }

            var client = Build(generation, plan, observer, outcomes);
            var options = new ChatOptions { ModelId = plan.Model, Tools = plan.Tools.Count > 0 ? [.. plan.Tools] : null };
            await foreach (var update in client.GetStreamingResponseAsync(messages, options, generation.StopToken).ConfigureAwait(false))
            {
                foreach (var content in update.Contents)
                {
                    switch (content)
                    {
                        case TextContent text when !string.IsNullOrEmpty(text.Text):
                            if (deltas++ == 0)
                            {
                                ChatTelemetry.FirstDelta.Record(_time.GetElapsedTime(started).TotalSeconds);
                            }

                            generation.Append(new ChatEvent { Kind = ChatEventKinds.Delta, Delta = text.Text });
                            captured?.Append(text.Text);
                            break;
                        case FunctionCallContent call:
                            generation.Append(new ChatEvent { Kind = ChatEventKinds.ToolCall, ToolCall = ToolCall(call, functions) });
                            break;
                        case FunctionResultContent result:
                            generation.Append(new ChatEvent { Kind = ChatEventKinds.ToolResult, ToolResult = ToolResult(result, outcomes) });
                            break;
                    }
                }

                checkpoints.Tick();
            }

            var finish = observer.LastFinishReason ?? "stop";
            if (captured is not null)
            {
                ChatTelemetry.CaptureOutput(activity, captured.ToString(), finish);
            }

            var notice = plan.Notice;
            if (finish == "tool_calls")
            {
                notice = new AtlasError
                {
                    Code = NoticeToolRounds,
                    Message = $"The model kept asking for tools after {_options.MaxToolRounds} rounds (Atlas:Chat:MaxToolRounds), so the answer may be incomplete.",
                };
            }

            terminal = new ChatEvent { Kind = ChatEventKinds.Done, FinishReason = finish, Model = plan.Model, Usage = Usage(observer), Notice = notice };
        }
        catch (Exception) when (generation.StopToken.IsCancellationRequested)
        {
            // Whatever the stop surfaced as (cancellation, or the closed response as an I/O error), it was a stop.
            terminal = generation.StopReason == ChatStatus.Interrupted
                ? new ChatEvent
                {
                    Kind = ChatEventKinds.Error,
                    Usage = Usage(observer),
                    Error = new AtlasError
                    {
                        Code = ErrorCodes.Interrupted,
                        Message = "The desktop stopped while this answer was being generated; the text received so far is kept.",
                        Retryable = true,
                    },
                }
                : new ChatEvent { Kind = ChatEventKinds.Cancelled, Usage = Usage(observer) };
        }
        catch (Exception e)
        {
            var failure = LlmErrors.Map(e, _llm.Endpoint, _llm.IdleTimeout, _time);
            if (failure.Code == ErrorCodes.LlmStreamError && failure.InnerException is not null)
            {
                ChatLog.GenerationCrashed(_logger, failure.InnerException, generation.MessageId);
            }
            else
            {
                ChatLog.GenerationFailed(_logger, generation.MessageId, failure.Code, failure.Message);
            }

            terminal = new ChatEvent
            {
                Kind = ChatEventKinds.Error,
                Usage = Usage(observer),
                Error = new AtlasError { Code = failure.Code, Message = failure.Message, RetryAfter = failure.RetryAfter, Retryable = failure.Retryable },
            };
        }

        await checkpoints.DrainAsync().ConfigureAwait(false);
        await generation.CompleteAsync(terminal, view => SaveAsync(generation, view, observer)).ConfigureAwait(false);
        var final = generation.ToView();
        ChatTelemetry.Active.Add(-1);
        ChatTelemetry.Deltas.Add(deltas);
        ChatTelemetry.RecordTurn(activity, plan.Model, provider, final.Status, final.Error?.Code, observer.LastFinishReason, final.Usage, _time.GetElapsedTime(started));

        ChatLog.GenerationEnded(_logger, generation.MessageId, final.Status, final.Error?.Code, deltas, final.Usage?.TotalTokens ?? 0);
    }

    private IChatClient Build(Generation generation, GenerationPlan plan, ProviderObserver observer,
        ConcurrentDictionary<string, ChatToolResult> outcomes)
    {
        var inner = _llm.Create(plan.Model, observer);
        if (_options.MaxToolRounds == 0)
        {
            return inner;
        }

        // Function invocation runs even without tools: a model that calls a tool it was not offered gets an error result
        // back (and the phone a tool_denied event) instead of an answer that just stops.
        return new ChatClientBuilder(inner)
            .UseFunctionInvocation(_loggerFactory, f =>
            {
                f.MaximumIterationsPerRequest = _options.MaxToolRounds;
                f.IncludeDetailedErrors = false;
                f.AllowConcurrentInvocation = false;
                f.FunctionInvoker = (context, cancellationToken) => InvokeToolAsync(generation, outcomes, context, cancellationToken);
            })
            .Build();
    }

    /// <summary>Runs one tool call: checks permission and consent again, maps failures to a visible result, and gives the
    /// model plain text (never a serialized content object) so it can recover.</summary>
    private async ValueTask<object?> InvokeToolAsync(Generation generation, ConcurrentDictionary<string, ChatToolResult> outcomes,
        FunctionInvocationContext context, CancellationToken cancellationToken)
    {
        var name = context.Function.Name;
        var callId = context.CallContent.CallId;
        using var activity = ChatTelemetry.StartTool(name, callId);
        var started = _time.GetTimestamp();
        var denial = await _tools.CheckAsync(generation.DeviceId, context.Function, cancellationToken).ConfigureAwait(false);
        if (denial is not null)
        {
            ChatLog.ToolDenied(_logger, name, generation.DeviceId, denial);
            ChatTelemetry.ToolCalls.Add(1, new KeyValuePair<string, object?>("outcome", "denied"));
            Diagnostics.AtlasTelemetry.Fail(activity, ErrorCodes.ToolDenied);
            outcomes[callId] = new ChatToolResult
            {
                Id = callId,
                Name = name,
                Error = new AtlasError { Code = ErrorCodes.ToolDenied, Message = $"The tool {name} is not allowed for this device: {denial}." },
            };
            return $"Error: the tool {name} is not allowed for this device ({denial}). Tell the user it needs to be allowed on the desktop; do not call it again.";
        }

        // Checked here against the tool's own schema: a server's answer to a missing argument is often opaque ("An error
        // occurred invoking 'ocr'"), and the model can only correct a call when it is told which argument it left out.
        if (MissingRequired(context.Function.JsonSchema, context.Arguments) is { Count: > 0 } missing)
        {
            var list = string.Join(", ", missing.Select(p => $"'{p}'"));
            var problem = missing.Count == 1 ? $"missing a value for the required parameter {list}" : $"missing values for the required parameters {list}";
            ChatTelemetry.ToolCalls.Add(1, new KeyValuePair<string, object?>("outcome", "error"));
            Diagnostics.AtlasTelemetry.Fail(activity, ErrorCodes.ToolFailed);
            ChatLog.ToolCalled(_logger, name, generation.DeviceId, "error: missing arguments", (long)_time.GetElapsedTime(started).TotalMilliseconds);
            outcomes[callId] = new ChatToolResult
            {
                Id = callId,
                Name = name,
                Error = new AtlasError { Code = ErrorCodes.ToolFailed, Message = $"The call to {name} was {problem}." },
            };
            return $"Error: the call to {name} was {problem}. Call it again with every required parameter.";
        }

        try
        {
            var result = await context.Function.InvokeAsync(context.Arguments, cancellationToken).ConfigureAwait(false);
            var text = Flatten(result);
            if (_captureContent)
            {
                ChatTelemetry.CaptureTool(activity, context.Arguments, text);
            }

            var failed = text.StartsWith("Error:", StringComparison.Ordinal);
            outcomes[callId] = new ChatToolResult
            {
                Id = callId,
                Name = name,
                Ok = !failed,
                Content = Clip(text),
                Error = failed ? new AtlasError { Code = ErrorCodes.ToolFailed, Message = Clip(text) } : null,
            };
            ChatTelemetry.ToolCalls.Add(1, new KeyValuePair<string, object?>("outcome", failed ? "error" : "ok"));
            if (failed)
            {
                Diagnostics.AtlasTelemetry.Fail(activity, ErrorCodes.ToolFailed);
            }

            ChatLog.ToolCalled(_logger, name, generation.DeviceId, failed ? "error" : "ok", (long)_time.GetElapsedTime(started).TotalMilliseconds);
            return result is string or JsonElement ? result : text;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var message = e is OperationCanceledException ? "it did not answer in time" : e.Message;
            ChatTelemetry.ToolCalls.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            Diagnostics.AtlasTelemetry.Fail(activity, ErrorCodes.ToolFailed);
            ChatLog.ToolCalled(_logger, name, generation.DeviceId, "failed: " + e.GetType().Name, (long)_time.GetElapsedTime(started).TotalMilliseconds);
            outcomes[callId] = new ChatToolResult
            {
                Id = callId,
                Name = name,
                Error = new AtlasError { Code = ErrorCodes.ToolFailed, Message = Clip($"The tool {name} failed: {message}") },
            };
            return $"Error: the tool {name} failed: {message}";
        }
    }

    /// <summary>The names the schema's top-level <c>required</c> list asks for that the call left out (or set to null).</summary>
    private static List<string> MissingRequired(JsonElement schema, AIFunctionArguments arguments)
    {
        var missing = new List<string>();
        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in required.EnumerateArray())
            {
                if (item.GetString() is { Length: > 0 } parameter && (!arguments.TryGetValue(parameter, out var value) || value is null or JsonElement { ValueKind: JsonValueKind.Null }))
                {
                    missing.Add(parameter);
                }
            }
        }

        return missing;
    }

    private static ChatToolCall ToolCall(FunctionCallContent call, Dictionary<string, AIFunction> functions)
    {
        var tool = new ChatToolCall { Id = call.CallId, Name = call.Name };
        if (functions.TryGetValue(call.Name, out var function))
        {
            tool.Server = function.AdditionalProperties.GetValueOrDefault("mmcp.server") as string;
            tool.Tool = function.AdditionalProperties.GetValueOrDefault("mmcp.tool") as string;
        }

        if (call.Arguments is { } arguments)
        {
            tool.Arguments = JsonSerializer.SerializeToElement(arguments, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>)));
        }

        return tool;
    }

    private static ChatToolResult ToolResult(FunctionResultContent result, ConcurrentDictionary<string, ChatToolResult> outcomes)
    {
        if (outcomes.TryRemove(result.CallId, out var outcome))
        {
            return outcome;
        }

        // The invoker never ran: the model named a tool that was not offered to this device.
        return new ChatToolResult
        {
            Id = result.CallId,
            Name = "",
            Error = new AtlasError { Code = ErrorCodes.ToolDenied, Message = "The model asked for a tool that is not available to this device." },
        };
    }

    internal static string Flatten(object? result) => result switch
    {
        null => "",
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } s => s.GetString() ?? "",
        JsonElement json => json.GetRawText(),
        TextContent t => t.Text,
        IEnumerable<AIContent> contents => string.Join('\n', contents.Select(c => c is TextContent t ? t.Text : $"[{c.GetType().Name}]")),
        _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions.GetTypeInfo(result.GetType())),
    };

    private static string Clip(string text) => text.Length <= MaxToolDisplayChars ? text : string.Concat(text.AsSpan(0, MaxToolDisplayChars), "…");

    private static ChatUsage? Usage(ProviderObserver observer)
    {
        if (!observer.AnyUsage)
        {
            return null;
        }

        var (prompt, completion, total, cost) = observer.Usage;
        return new ChatUsage { PromptTokens = prompt, CompletionTokens = completion, TotalTokens = total, Cost = cost };
    }

    private async Task SaveAsync(Generation generation, ChatMessageView view, ProviderObserver observer)
    {
        // The final state must reach the database even when the desktop is stopping; a few attempts ride out a busy file.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _store.CompleteAsync(generation.ConversationId, view, observer.GenerationIds, CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (attempt < 3)
            {
                ChatLog.CheckpointFailed(_logger, e, generation.MessageId);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), _time).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Left as 'streaming': the next start marks it interrupted, with the last checkpoint's text.
                ChatLog.CheckpointFailed(_logger, e, generation.MessageId);
                return;
            }
        }
    }

    /// <summary>Saves the text so far at most every <c>Atlas:Chat:CheckpointInterval</c>, off the delivery path (one
    /// save at a time, on the thread pool), so a crash loses at most that much and deltas are never delayed by I/O.</summary>
    private sealed class Checkpoints(GenerationRunner runner, Generation generation)
    {
        private long _last = runner._time.GetTimestamp();
        private Task _pending = Task.CompletedTask;

        public void Tick()
        {
            if (!_pending.IsCompleted || runner._time.GetElapsedTime(_last) < runner._options.CheckpointInterval)
            {
                return;
            }

            _last = runner._time.GetTimestamp();
            _pending = Task.Run(async () =>
            {
                try
                {
                    var (content, tools, lastSeq) = generation.Progress();
                    await runner._store.CheckpointAsync(generation.MessageId, content, tools, lastSeq, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    ChatLog.CheckpointFailed(runner._logger, e, generation.MessageId);
                }
            });
        }

        public Task DrainAsync() => _pending;
    }
}
