using System.Buffers.Binary;
using System.Net.Sockets;

namespace Mmcp.Server.Sockets;

/// <summary>The credentials of the process at the other end of a Unix socket, as the kernel reports them.</summary>
/// <param name="ProcessId">The peer's process id.</param>
/// <param name="UserId">The peer's effective user id.</param>
/// <param name="GroupId">The peer's effective group id.</param>
internal readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>Reads <c>SO_PEERCRED</c> (Linux). Returns <see langword="false"/> where the platform has no such option.</summary>
    public static bool TryGet(Socket socket, out PeerCredentials credentials)
    {
        credentials = default;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } — read through the managed raw-option API, no P/Invoke needed.
        Span<byte> buffer = stackalloc byte[12];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, buffer) != buffer.Length)
            {
                return false;
            }
        }
        catch (SocketException)
        {
            return false;
        }

        credentials = new PeerCredentials(
            BinaryPrimitives.ReadInt32LittleEndian(buffer),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[8..]));
        return true;
    }
}
