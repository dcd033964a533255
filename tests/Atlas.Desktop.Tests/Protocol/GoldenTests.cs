using System.Text.Json;
using Atlas.Client.Protocol;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Media;
using Atlas.Media;
using Atlas.Media.Ocr;

namespace Atlas.Desktop.Tests.Protocol;

/// <summary>Freezes the wire contract: changing any of these breaks deployed clients and needs a protocol version bump.</summary>
public sealed class GoldenTests
{
    [Fact]
    public void MessageTypes_AreFrozen() => Assert.Equal(
        ["auth", "auth_success", "auth_failed", "chat_message", "chat_response", "chat_cancel", "resume", "file_request",
         "file_response", "media_process", "media_result", "status_update", "error", "ping", "pong", "conversation_request",
         "conversation_response"],
        MessageTypes.All);

    [Fact]
    public void ErrorCodes_AreFrozen() => Assert.Equal(
        ["bad_request", "bad_frame", "too_large", "unsupported_version", "unknown_type", "unauthorized", "auth_timeout",
         "session_expired", "revoked", "forbidden", "rate_limited", "not_found", "already_exists", "conflict", "quota_exceeded",
         "invalid_path", "not_available", "pairing_failed", "pairing_pending", "pairing_denied", "pairing_closed",
         "host_not_allowed", "origin_not_allowed", "address_not_allowed", "token_in_query", "too_many_connections",
         "duplicate_request", "internal_error", "unsupported_media", "media_rejected", "processing_failed", "cancelled",
         "llm_not_configured", "llm_auth_failed", "llm_no_credits", "llm_rate_limited", "llm_unavailable", "llm_timeout",
         "llm_rejected", "llm_stream_error", "llm_truncated", "model_unsupported", "interrupted", "tool_denied", "tool_failed",
         "precondition_failed", "range_not_satisfiable", "method_not_allowed"],
        ErrorCodes.All);

    [Fact]
    public void ErrorCodes_MapToFrozenHttpStatuses() => Assert.Equal(
        [400, 400, 413, 400, 400, 401, 401, 401, 401, 403, 429, 404, 409, 409, 507, 400, 503, 401, 403, 403, 403, 400, 403, 403, 400, 429, 409, 500, 415, 422, 500, 409,
         503, 502, 402, 429, 503, 504, 422, 502, 502, 400, 503, 403, 502, 412, 416, 405],
        ErrorCodes.All.Select(ApiErrors.StatusFor));

    [Fact]
    public void Envelope_HasFrozenShape()
    {
        var envelope = new AtlasEnvelope
        {
            Type = MessageTypes.Error,
            Re = "c-1",
            Error = new AtlasError { Code = ErrorCodes.NotFound, Message = "gone", RetryAfter = 2 },
        };
        Assert.Equal(WireFixtures.Read("error.json"),
            JsonSerializer.Serialize(envelope, AtlasJsonContext.Default.AtlasEnvelope));
        var request = JsonSerializer.Deserialize(WireFixtures.Read("file_request.json"), AtlasJsonContext.Default.AtlasEnvelope)!;
        Assert.Equal("c-2", request.Id);
        Assert.Equal("list", request.Data!.Value.GetProperty("op").GetString());
    }

    /// <summary>The frames the web client sends on every socket (auth first, pong to a ping) parse to what it means.</summary>
    [Fact]
    [Trait("Issue13", "7")]
    public void ClientFrames_FromTheFixtures_ParseToTheirFields()
    {
        var auth = JsonSerializer.Deserialize(WireFixtures.Read("auth.json"), AtlasJsonContext.Default.AtlasEnvelope)!;
        Assert.Equal((1, MessageTypes.Auth, "a-1"), (auth.V, auth.Type, auth.Id));
        Assert.Equal("sess_abc", auth.Data!.Value.Deserialize(AtlasJsonContext.Default.AuthFrame)!.Token);
        var pong = JsonSerializer.Deserialize(WireFixtures.Read("pong.json"), AtlasJsonContext.Default.AtlasEnvelope)!;
        Assert.Equal((1, MessageTypes.Pong, "p-1"), (pong.V, pong.Type, pong.Re));
    }

    /// <summary>The media_process data the web client sends (wire.js mediaProcessData) parses to its task and path.</summary>
    [Fact]
    [Trait("Issue13", "7")]
    public void MediaProcessData_FromTheFixture_ParsesToItsTaskAndPath()
    {
        using var data = JsonDocument.Parse(WireFixtures.Read("media_process.data.json"));
        var input = PipelineMediaService.Parse(data.RootElement);
        Assert.Equal((MediaTask.Ocr, "camera/receipt.jpg", false), (input.Task, input.Path, input.Content is not null));
        Assert.Equal((false, (OcrOptions?)null), (input.BypassCache, input.Ocr));
    }

    [Fact]
    public void CloseCodesAndGrants_AreFrozen()
    {
        Assert.Equal([4001, 4003, 4008, 4010, 4011, 4012, 4029],
            [AtlasProtocol.CloseAuthFailed, AtlasProtocol.CloseRevoked, AtlasProtocol.CloseAuthTimeout, AtlasProtocol.CloseSessionExpired,
             AtlasProtocol.CloseHeartbeatTimeout, AtlasProtocol.CloseReplaced, AtlasProtocol.CloseTooManyConnections]);
        Assert.Equal(("pairing_ticket", "device_credential"), (AtlasProtocol.GrantPairingTicket, AtlasProtocol.GrantDeviceCredential));
        Assert.Equal(["chat", "files.read", "files.write", "media.process", "tools"], Permissions.All);
    }
}
