using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Atlas.Client;
using Atlas.Client.Protocol;

namespace Atlas.Desktop.Chat;

/// <summary>The frame data of the chat feature: requests parsed with a hint that says what was expected, answers
/// serialized with the source-generated contracts.</summary>
internal static class ChatJson
{
    public static T Parse<T>(JsonElement data, JsonTypeInfo<T> type, string hint)
        where T : class
    {
        if (data.ValueKind != JsonValueKind.Object)
        {
            throw new AtlasException(ErrorCodes.BadRequest, hint);
        }

        try
        {
            return data.Deserialize(type) ?? throw new AtlasException(ErrorCodes.BadRequest, hint);
        }
        catch (JsonException)
        {
            throw new AtlasException(ErrorCodes.BadRequest, hint);
        }
    }

    public static JsonElement Element<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToElement(value, type);
}
