using System.ClientModel;
using System.Text.Json;
using Atlas.Client.Protocol;
using Shared.Json;

namespace Atlas.Desktop.Chat.Llm;

/// <summary>The one place provider failures become stable client codes (<c>llm_*</c>), human messages and retry hints.
/// Messages never contain the API key: only the provider's own error message and the endpoint's host.</summary>
internal static class LlmErrors
{
    public static ProviderException Map(Exception exception, Uri endpoint, TimeSpan idleTimeout, TimeProvider time)
    {
        switch (exception)
        {
            case ProviderException provider:
                return provider;
            case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                // The SDK's retry policy gives up with every attempt's failure; the last one says the most.
                return Map(aggregate.InnerExceptions[^1], endpoint, idleTimeout, time);
            case ClientResultException result:
                return FromStatus(result, endpoint, time);
            case HttpRequestException http:
                return new ProviderException(ErrorCodes.LlmUnavailable,
                    $"Could not reach the LLM endpoint at {endpoint.Host}:{endpoint.Port} ({http.Message}). Check that it is running and Atlas:Llm:BaseUrl is right.",
                    retryable: true, innerException: http);
            case OperationCanceledException:
                return new ProviderException(ErrorCodes.LlmTimeout,
                    $"The LLM endpoint sent nothing for {idleTimeout.TotalSeconds:0} seconds (Atlas:Llm:IdleTimeout); the text received so far is kept.",
                    retryable: true, innerException: exception);
            case IOException io:
                return new ProviderException(ErrorCodes.LlmTruncated,
                    "The connection to the LLM endpoint broke in the middle of the answer; the text received so far is kept.",
                    retryable: true, innerException: io);
            default:
                return new ProviderException(ErrorCodes.LlmStreamError,
                    $"The LLM endpoint's answer could not be read ({exception.GetType().Name}); the text received so far is kept.",
                    retryable: true, innerException: exception);
        }
    }

    private static ProviderException FromStatus(ClientResultException result, Uri endpoint, TimeProvider time)
    {
        var response = result.GetRawResponse();
        var detail = OpenRouterChunkInspector.Clip(ErrorMessage(response) ?? $"HTTP {result.Status}");
        var retryAfter = response is null ? null : ProviderRetryPolicy.RetryAfter(response, time) is { } wait ? (int?)Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : null;
        return result.Status switch
        {
            401 => new ProviderException(ErrorCodes.LlmAuthFailed,
                $"The LLM provider refused the desktop's API key ({detail}). Set a valid key in OPENROUTER_API_KEY or Atlas:Llm:ApiKey on the desktop.",
                innerException: result),
            402 => new ProviderException(ErrorCodes.LlmNoCredits,
                $"The LLM account has no credits left ({detail}). Add credits or raise the key's limit, or pick a free model.",
                retryAfter, retryable: retryAfter is not null, innerException: result),
            404 => new ProviderException(ErrorCodes.ModelUnsupported,
                $"The LLM endpoint does not offer this model ({detail}). Pick one from GET /models.", innerException: result),
            408 => new ProviderException(ErrorCodes.LlmTimeout, $"The LLM provider timed out ({detail}).", retryAfter, retryable: true,
                innerException: result),
            429 => new ProviderException(ErrorCodes.LlmRateLimited,
                retryAfter is { } s ? $"The LLM provider is rate limiting ({detail}); try again in {s} seconds." : $"The LLM provider is rate limiting ({detail}); try again shortly.",
                retryAfter, retryable: true, innerException: result),
            400 or 403 or 413 or 422 => new ProviderException(ErrorCodes.LlmRejected, $"The LLM provider rejected the request ({detail}).",
                innerException: result),
            _ => new ProviderException(ErrorCodes.LlmUnavailable,
                $"The LLM provider at {endpoint.Host} is unavailable (HTTP {result.Status}: {detail}); try again later.",
                retryAfter, retryable: true, innerException: result),
        };
    }

    /// <summary>OpenRouter and OpenAI bodies: <c>{"error":{"code":…,"message":"…","metadata":{…}}}</c>.</summary>
    private static string? ErrorMessage(System.ClientModel.Primitives.PipelineResponse? response)
    {
        if (response?.Content is not { } content || content.ToMemory().Length is 0 or > 65_536)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(LoneSurrogates.Replaced(content.ToMemory()));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString();
                }

                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message)
                    && message.ValueKind == JsonValueKind.String)
                {
                    return message.GetString();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: no detail.
        }

        return null;
    }
}
