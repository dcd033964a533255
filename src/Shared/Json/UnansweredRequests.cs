using System.Globalization;
using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Fronts;

/// <summary>
/// The requests a stream session read from its client and has not answered yet (<c>mmcp stdio</c> on standard output,
/// an Mmcp server on a socket connection), so that the end of the client's input (standard input closed, a socket's
/// <c>shutdown(SHUT_WR)</c>) waits for their answers before the SDK's session sees it: the SDK's stream transport drops
/// whatever is sent once its input ended. A request the client cancels is not waited for: MCP sends no answer to a
/// cancelled request. Neither is <c>subscriptions/listen</c>, which stays open until cancelled.
/// </summary>
internal sealed class UnansweredRequests
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile int _count;
    private bool _inputEnded;

    /// <summary>Gets how many requests (by id) wait for their answer.</summary>
    public int Count => _count;

    /// <summary>Notes a message read from the client (valid JSON-RPC as far as the front checks): a request to answer, or a cancellation.</summary>
    public void Read(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
        {
            return; // an answer of the client's, or nothing the SDK answers
        }

        if (message.TryGetProperty("id", out var id))
        {
            if (!method.ValueEquals(RequestMethods.SubscriptionsListen) && KeyOf(id) is { } key)
            {
                Add(key);
            }
        }
        else if (method.ValueEquals(NotificationMethods.CancelledNotification)
            && message.TryGetProperty("params", out var parameters) && parameters.ValueKind == JsonValueKind.Object
            && parameters.TryGetProperty("requestId", out var cancelled) && KeyOf(cancelled) is { } key)
        {
            Remove(key);
        }
    }

    /// <summary>Notes each whole line of what was just written to the client and flushed (<see cref="Written"/> per line).</summary>
    public void WrittenLines(ReadOnlySpan<byte> written)
    {
        while (written.IndexOf((byte)'\n') is var newline and >= 0)
        {
            Written(written[..newline]);
            written = written[(newline + 1)..];
        }
    }

    /// <summary>Notes a whole line written to the client and flushed: an answer (a result or an error) ends its request.</summary>
    public void Written(ReadOnlySpan<byte> line)
    {
        if (_count == 0)
        {
            return; // nothing to answer: no need to look
        }

        // Reads only up to the id and the member that makes it an answer: the SDK writes "id" before "result".
        var reader = new Utf8JsonReader(line);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            string? key = null;
            var answer = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("method"u8))
                {
                    return; // a request or a notification of the server's
                }

                var isId = reader.ValueTextEquals("id"u8);
                answer |= reader.ValueTextEquals("result"u8) || reader.ValueTextEquals("error"u8);
                if (answer && key is not null)
                {
                    break;
                }

                reader.Read();
                if (isId)
                {
                    key = KeyOf(ref reader);
                }

                reader.Skip();
            }

            if (answer && key is not null)
            {
                Remove(key);
            }
        }
        catch (JsonException)
        {
            // Not JSON-RPC from the SDK: nothing it answered.
        }
    }

    /// <summary>Completes once input has ended and every request read is answered (or cancelled, or can no longer be answered).</summary>
    public Task DrainAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _inputEnded = true;
            if (_pending.Count == 0)
            {
                _drained.TrySetResult();
            }
        }

        return _drained.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Standard output broke: nothing more can be answered, so nothing is waited for.</summary>
    public void Abandon() => _drained.TrySetResult();

    private void Add(string key)
    {
        lock (_gate)
        {
            _pending[key] = _pending.GetValueOrDefault(key) + 1;
            _count = _pending.Count;
        }
    }

    private void Remove(string key)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(key, out var count))
            {
                return; // answered already (a cancellation that came late), or never asked
            }

            if (count > 1)
            {
                _pending[key] = count - 1;
            }
            else
            {
                _pending.Remove(key);
            }

            _count = _pending.Count;
            if (_inputEnded && _pending.Count == 0)
            {
                _drained.TrySetResult();
            }
        }
    }

    /// <summary>The id as the SDK reads it (a string, or an integer), or null for one it answers with no id or not at all.</summary>
    private static string? KeyOf(JsonElement id) => id.ValueKind switch
    {
        JsonValueKind.String => "s:" + id.GetString(),
        JsonValueKind.Number when id.TryGetInt64(out var number) => "n:" + number.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    private static string? KeyOf(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => "s:" + reader.GetString(),
        JsonTokenType.Number when reader.TryGetInt64(out var number) => "n:" + number.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };
}
