using Atlas.Client.Protocol;

namespace Atlas.Client.Offline;

/// <summary>A chat message waiting in the outbox for the desktop.</summary>
/// <param name="RequestId">The idempotency key, fixed when the user pressed send: a resend after a crash or reconnect is
/// recognized by the desktop as the same message and never reaches the model twice.</param>
/// <param name="Message">The message.</param>
/// <param name="QueuedAt">When it was queued.</param>
/// <param name="ContinuesPrevious">The message has no conversation yet and belongs to the one the message queued before
/// it starts (a new conversation typed offline).</param>
public sealed record OutboxItem(string RequestId, ChatMessageRequest Message, DateTimeOffset QueuedAt, bool ContinuesPrevious = false);
