namespace Atlas.Client.Protocol;

/// <summary>Stable error codes carried by <c>error</c> frames, <c>auth_failed</c> frames and REST error bodies.</summary>
/// <remarks>Codes are a wire contract: clients branch on them, humans read the accompanying message.</remarks>
public static class ErrorCodes
{
    /// <summary>The request was malformed (missing or wrongly typed fields).</summary>
    public const string BadRequest = "bad_request";

    /// <summary>A WebSocket frame was not a valid protocol envelope (invalid JSON, binary frame, too deep).</summary>
    public const string BadFrame = "bad_frame";

    /// <summary>A frame or request body was larger than the configured limit.</summary>
    public const string TooLarge = "too_large";

    /// <summary>The envelope's <c>v</c> is not a protocol version this server speaks.</summary>
    public const string UnsupportedVersion = "unsupported_version";

    /// <summary>The message type is not part of the protocol.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>No valid credentials were presented (missing, garbage, expired or revoked).</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>The socket did not authenticate within the allowed time.</summary>
    public const string AuthTimeout = "auth_timeout";

    /// <summary>The session token has expired; obtain a new one with the device credential.</summary>
    public const string SessionExpired = "session_expired";

    /// <summary>The device has been revoked on the desktop; pair again.</summary>
    public const string Revoked = "revoked";

    /// <summary>The device lacks the permission the request needs.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>Too many requests; retry after the indicated delay.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>The file or resource does not exist.</summary>
    public const string NotFound = "not_found";

    /// <summary>The target already exists and overwriting was not requested.</summary>
    public const string AlreadyExists = "already_exists";

    /// <summary>The request conflicts with the current state (for example a directory where a file was expected).</summary>
    public const string Conflict = "conflict";

    /// <summary>The device's storage quota would be exceeded.</summary>
    public const string QuotaExceeded = "quota_exceeded";

    /// <summary>The path is not acceptable (escapes the device root, absolute, NUL, too long, reserved).</summary>
    public const string InvalidPath = "invalid_path";

    /// <summary>The feature exists in the protocol but is not available on this desktop yet (chat without an LLM,
    /// media without the pipeline).</summary>
    public const string NotAvailable = "not_available";

    /// <summary>The pairing ticket is unknown, used or expired (deliberately not saying which).</summary>
    public const string PairingFailed = "pairing_failed";

    /// <summary>The device is paired but waits for approval on the desktop.</summary>
    public const string PairingPending = "pairing_pending";

    /// <summary>The desktop user denied the pairing (or did not approve it in time).</summary>
    public const string PairingDenied = "pairing_denied";

    /// <summary>Pairing is closed after too many failed attempts; open a new pairing window on the desktop.</summary>
    public const string PairingClosed = "pairing_closed";

    /// <summary>The request's <c>Host</c> header is not one of the desktop's names or addresses.</summary>
    public const string HostNotAllowed = "host_not_allowed";

    /// <summary>The request's <c>Origin</c> is not one of the desktop's own origins.</summary>
    public const string OriginNotAllowed = "origin_not_allowed";

    /// <summary>The request came from an address outside loopback and private ranges.</summary>
    public const string AddressNotAllowed = "address_not_allowed";

    /// <summary>A token was sent in the query string; tokens are accepted only in headers or the auth frame.</summary>
    public const string TokenInQuery = "token_in_query";

    /// <summary>The device already has the maximum number of live connections.</summary>
    public const string TooManyConnections = "too_many_connections";

    /// <summary>A request id was reused with a different request.</summary>
    public const string DuplicateRequest = "duplicate_request";

    /// <summary>An unexpected server fault; nothing was changed.</summary>
    public const string InternalError = "internal_error";

    /// <summary>The media's format is not one the pipeline processes (decided from the bytes, not the name).</summary>
    public const string UnsupportedMedia = "unsupported_media";

    /// <summary>The media was refused as unsafe or unusable: a playlist or script that reaches other files, too many pixels, too long, corrupt or truncated.</summary>
    public const string MediaRejected = "media_rejected";

    /// <summary>Processing failed on the desktop (a tool failed, ran out of time or memory, or the vision model failed).</summary>
    public const string ProcessingFailed = "processing_failed";

    /// <summary>The operation was cancelled on request.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Chat needs an LLM and none is configured on the desktop (no API key for OpenRouter).</summary>
    public const string LlmNotConfigured = "llm_not_configured";

    /// <summary>The LLM provider refused the desktop's API key (HTTP 401 from the provider); fix the key on the desktop.</summary>
    public const string LlmAuthFailed = "llm_auth_failed";

    /// <summary>The LLM account has no credits left (HTTP 402 from the provider); not worth retrying until topped up.</summary>
    public const string LlmNoCredits = "llm_no_credits";

    /// <summary>The LLM provider is rate limiting; retry after <c>retryAfter</c> seconds.</summary>
    public const string LlmRateLimited = "llm_rate_limited";

    /// <summary>The LLM provider or model is down or unreachable (HTTP 502/503, connection refused); retry later.</summary>
    public const string LlmUnavailable = "llm_unavailable";

    /// <summary>The LLM provider sent nothing for too long (first byte or between chunks).</summary>
    public const string LlmTimeout = "llm_timeout";

    /// <summary>The LLM provider rejected the request (HTTP 400/403: context too long, moderation, bad parameters).</summary>
    public const string LlmRejected = "llm_rejected";

    /// <summary>The provider reported an error inside a started stream; the text received so far is kept.</summary>
    public const string LlmStreamError = "llm_stream_error";

    /// <summary>The provider's stream ended (or the connection broke) without a finish reason; the answer is incomplete.</summary>
    public const string LlmTruncated = "llm_truncated";

    /// <summary>The requested model is unknown, not allowed, or cannot take the request (images to a text-only model).</summary>
    public const string ModelUnsupported = "model_unsupported";

    /// <summary>The desktop stopped while the answer was being generated; the text received so far is kept.</summary>
    public const string Interrupted = "interrupted";

    /// <summary>The model asked for a tool this device may not use (permission or consent); the model was told.</summary>
    public const string ToolDenied = "tool_denied";

    /// <summary>A tool call failed (server error, timeout, bad arguments); the model was told.</summary>
    public const string ToolFailed = "tool_failed";

    /// <summary>A conditional file request (<c>If-Match</c> / <c>If-None-Match</c>) found the file changed, gone or
    /// present since the client saw it; nothing was changed.</summary>
    public const string PreconditionFailed = "precondition_failed";

    /// <summary>A ranged read asked for bytes past the end of the file (HTTP 416, with <c>Content-Range: bytes */size</c>).</summary>
    public const string RangeNotSatisfiable = "range_not_satisfiable";

    /// <summary>The path is an endpoint that takes other methods (HTTP 405, with <c>Allow</c> naming them).</summary>
    public const string MethodNotAllowed = "method_not_allowed";

    /// <summary>Every error code of the protocol, in a stable order (golden-tested).</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        BadRequest, BadFrame, TooLarge, UnsupportedVersion, UnknownType, Unauthorized, AuthTimeout, SessionExpired,
        Revoked, Forbidden, RateLimited, NotFound, AlreadyExists, Conflict, QuotaExceeded, InvalidPath, NotAvailable,
        PairingFailed, PairingPending, PairingDenied, PairingClosed, HostNotAllowed, OriginNotAllowed,
        AddressNotAllowed, TokenInQuery, TooManyConnections, DuplicateRequest, InternalError, UnsupportedMedia,
        MediaRejected, ProcessingFailed, Cancelled, LlmNotConfigured, LlmAuthFailed, LlmNoCredits, LlmRateLimited, LlmUnavailable,
        LlmTimeout, LlmRejected, LlmStreamError, LlmTruncated, ModelUnsupported, Interrupted, ToolDenied, ToolFailed,
        PreconditionFailed, RangeNotSatisfiable, MethodNotAllowed,
    ];
}
