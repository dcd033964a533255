namespace Atlas.Client.Protocol;

/// <summary>The WebSocket message types of the Atlas protocol (version <see cref="AtlasProtocol.Version"/>).</summary>
/// <remarks>These strings are a wire contract: they never change meaning within a protocol version.</remarks>
public static class MessageTypes
{
    /// <summary>Client → server, first frame: authenticates the socket with a session token.</summary>
    public const string Auth = "auth";

    /// <summary>Server → client: the socket is authenticated.</summary>
    public const string AuthSuccess = "auth_success";

    /// <summary>Server → client: authentication failed; the server closes the socket next.</summary>
    public const string AuthFailed = "auth_failed";

    /// <summary>Client → server: a chat message for the desktop's LLM.</summary>
    public const string ChatMessage = "chat_message";

    /// <summary>Server → client: a chat delta, tool event or final answer.</summary>
    public const string ChatResponse = "chat_response";

    /// <summary>Client → server: cancels a running generation.</summary>
    public const string ChatCancel = "chat_cancel";

    /// <summary>Client → server: resumes a generation from the last sequence number the client saw.</summary>
    public const string Resume = "resume";

    /// <summary>Client → server: a file operation in the device's own namespace.</summary>
    public const string FileRequest = "file_request";

    /// <summary>Server → client: the result of a <see cref="FileRequest"/>.</summary>
    public const string FileResponse = "file_response";

    /// <summary>Client → server: a media processing request.</summary>
    public const string MediaProcess = "media_process";

    /// <summary>Server → client: progress or result of a media job.</summary>
    public const string MediaResult = "media_result";

    /// <summary>Server → client: desktop state (LLM, hub servers, jobs, permissions).</summary>
    public const string StatusUpdate = "status_update";

    /// <summary>Either direction: an error that references the request it answers.</summary>
    public const string Error = "error";

    /// <summary>Either direction: application-level heartbeat; the peer answers <see cref="Pong"/>.</summary>
    public const string Ping = "ping";

    /// <summary>Either direction: the answer to <see cref="Ping"/>.</summary>
    public const string Pong = "pong";

    /// <summary>Client → server: lists, loads, renames or deletes the device's conversations.</summary>
    public const string ConversationRequest = "conversation_request";

    /// <summary>Server → client: the answer to a <see cref="ConversationRequest"/>, or (without <c>re</c>) a change made
    /// by another session of the same device.</summary>
    public const string ConversationResponse = "conversation_response";

    /// <summary>Every message type of the protocol, in a stable order (golden-tested).</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Auth, AuthSuccess, AuthFailed, ChatMessage, ChatResponse, ChatCancel, Resume, FileRequest, FileResponse,
        MediaProcess, MediaResult, StatusUpdate, Error, Ping, Pong, ConversationRequest, ConversationResponse,
    ];
}
