namespace Mmcp.Client.Connectors;

/// <summary>
/// The SDK's stream transport writes each message as two writes (the JSON, then the newline) and then flushes. On an
/// unbuffered pipe or socket that is two system calls, and the server often wakes for the first half and again for the
/// newline. A buffer in between makes each message one write, at its flush.
/// </summary>
internal static class MessageWrites
{
    /// <summary>Messages up to this size leave in one write; larger ones are written through.</summary>
    public const int BufferSize = 64 * 1024;

    /// <summary>Wraps the stream the transport writes messages to.</summary>
    /// <param name="input">The server's input (a child's standard input, or a socket).</param>
    /// <returns>A buffered stream that writes to <paramref name="input"/> when flushed.</returns>
    public static Stream Coalesce(Stream input) => new BufferedStream(input, BufferSize);
}
