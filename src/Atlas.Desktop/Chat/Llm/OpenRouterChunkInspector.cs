using System.Globalization;
using System.Text.Json;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Chat.Llm;

/// <summary>Reads OpenRouter's (and any OpenAI-compatible endpoint's) streamed chat chunks for what the SDK loses:
/// the generation id, usage with cost, the finish reason (so a stream that ends without one is known to be cut), and
/// error chunks inside a 200 stream (<c>{"error":…}</c> or <c>finish_reason: "error"</c>), which become
/// <see cref="ProviderException"/>s with stable codes. <c>[DONE]</c> and non-object chunks pass.</summary>
internal sealed class OpenRouterChunkInspector
{
    private readonly ProviderObserver _observer;

    public OpenRouterChunkInspector(ProviderObserver observer)
    {
        _observer = observer;
    }

    /// <summary>Whether a chunk carried a finish reason.</summary>
    public bool SawFinish { get; private set; }

    /// <summary>Inspects the data of one event; throws <see cref="ProviderException"/> for an error chunk or a chunk
    /// that is not JSON.</summary>
    public void Inspect(ReadOnlyMemory<byte> data)
    {
        if (data.Span.Trim(" \t"u8).SequenceEqual("[DONE]"u8))
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data);
        }
        catch (JsonException)
        {
            throw new ProviderException(ErrorCodes.LlmStreamError, "The LLM endpoint sent a stream chunk that is not JSON; the answer was stopped.",
                retryable: true);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                _observer.OnGenerationId(id.GetString()!);
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                _observer.OnUsage(Long(usage, "prompt_tokens"), Long(usage, "completion_tokens"), Long(usage, "total_tokens"),
                    usage.TryGetProperty("cost", out var cost) && cost.ValueKind == JsonValueKind.Number && cost.TryGetDecimal(out var c) ? c : null);
            }

            if (root.TryGetProperty("error", out var error) && error.ValueKind is JsonValueKind.Object or JsonValueKind.String)
            {
                throw InBand(error);
            }

            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("finish_reason", out var finish)
                        && finish.ValueKind == JsonValueKind.String)
                    {
                        var reason = finish.GetString()!;
                        if (reason == "error")
                        {
                            throw new ProviderException(ErrorCodes.LlmStreamError,
                                "The LLM provider stopped the answer with an error (no details given); the text received so far is kept.",
                                retryable: true);
                        }

                        SawFinish = true;
                        _observer.OnFinish(reason, choice.TryGetProperty("native_finish_reason", out var native)
                            && native.ValueKind == JsonValueKind.String ? native.GetString() : null);
                    }
                }
            }
        }
    }

    /// <summary>An error chunk inside a 200 stream: <c>{"error":{"code":"server_error"|502,"message":…}}</c>.</summary>
    private static ProviderException InBand(JsonElement error)
    {
        string? message = null;
        string? code = null;
        if (error.ValueKind == JsonValueKind.String)
        {
            message = error.GetString();
        }
        else
        {
            if (error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
            {
                message = m.GetString();
            }

            if (error.TryGetProperty("code", out var c))
            {
                code = c.ValueKind switch
                {
                    JsonValueKind.String => c.GetString(),
                    JsonValueKind.Number => c.GetRawText(),
                    _ => null,
                };
            }
        }

        var text = Clip(message ?? "no message");
        var status = int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var (mapped, retryable) = status switch
        {
            402 => (ErrorCodes.LlmNoCredits, false),
            429 => (ErrorCodes.LlmRateLimited, true),
            408 => (ErrorCodes.LlmTimeout, true),
            401 => (ErrorCodes.LlmAuthFailed, false),
            400 or 403 => (ErrorCodes.LlmRejected, false),
            _ => (ErrorCodes.LlmStreamError, true),
        };
        return new ProviderException(mapped,
            $"The LLM provider reported an error in the middle of the answer ({code ?? "no code"}: {text}); the text received so far is kept.",
            retryable: retryable);
    }

    internal static string Clip(string text) => text.Length <= 300 ? text : string.Concat(text.AsSpan(0, 300), "…");

    private static long Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : 0;
}
