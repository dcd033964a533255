using System.Text.Json;
using System.Text.Json.Serialization;

namespace Atlas.Client.Protocol;

/// <summary>Source-generated JSON metadata for the protocol types (trim- and AOT-safe).</summary>
// Strict numbers: Web defaults read "10" as 10, but a wrongly typed field is bad_request (atlas-protocol.md).
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(AtlasEnvelope))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(AuthRequest))]
[JsonSerializable(typeof(PairingResponse))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(AuthFrame))]
[JsonSerializable(typeof(AuthSuccessFrame))]
[JsonSerializable(typeof(FileRequest))]
[JsonSerializable(typeof(FileEntry))]
[JsonSerializable(typeof(List<FileEntry>))]
[JsonSerializable(typeof(FileListResponse))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(ChatMessageRequest))]
[JsonSerializable(typeof(ChatResumeRequest))]
[JsonSerializable(typeof(ChatCancelRequest))]
[JsonSerializable(typeof(ChatCancelResult))]
[JsonSerializable(typeof(ChatEvent))]
[JsonSerializable(typeof(ChatMessageView))]
[JsonSerializable(typeof(List<ChatToolActivity>))]
[JsonSerializable(typeof(List<ChatAttachment>))]
[JsonSerializable(typeof(ConversationRequest))]
[JsonSerializable(typeof(ConversationResponse))]
[JsonSerializable(typeof(ConversationInfo))]
[JsonSerializable(typeof(ModelList))]
public sealed partial class AtlasJsonContext : JsonSerializerContext;
