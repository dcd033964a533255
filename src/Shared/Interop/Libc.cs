using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Mmcp.Core.Interop;

/// <summary>The few libc calls .NET has no managed API for. Compiled into each project that needs it.</summary>
internal static partial class Libc
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const uint SocketTypeBits = 0xC000; // S_IFSOCK
    private const uint FileTypeMask = 0xF000;   // S_IFMT
    private const short PollErr = 0x008;
    private const short PollHup = 0x010;

    /// <summary>The owner, mode and inode of a path, without following a final symbolic link.</summary>
    internal readonly record struct FileStat(uint UserId, uint Mode, ulong Inode)
    {
        public bool IsSocket => (Mode & FileTypeMask) == SocketTypeBits;
    }

    /// <summary>Returns the effective user id, or 0 where the platform has none.</summary>
    internal static uint EffectiveUserId() => OperatingSystem.IsWindows() ? 0 : geteuid();

    /// <summary>Reads a path's owner, mode and inode (Linux <c>statx</c>); returns <see langword="false"/> elsewhere or on error.</summary>
    internal static bool TryLStat(string path, out FileStat stat)
    {
        stat = default;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        // struct statx: stx_uid at 20, stx_mode (u16) at 28, stx_ino (u64) at 32.
        var buffer = new byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            return false;
        }

        stat = new FileStat(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(20)), BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28)), BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(32)));
        return true;
    }

    /// <summary>
    /// Whether the peer of a connected Unix stream socket closed it both ways (<c>POLLHUP</c>: it closed the socket or
    /// shut down reading too) or the socket failed, as opposed to a half-close (<c>shutdown(SHUT_WR)</c>), after which the
    /// peer still reads. Does not wait. <see langword="false"/> where the platform cannot tell (not Linux).
    /// </summary>
    internal static bool IsHungUp(SafeHandle socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var added = false;
        try
        {
            socket.DangerousAddRef(ref added); // the descriptor stays ours while poll looks at it
            var descriptor = new PollDescriptor { Descriptor = (int)socket.DangerousGetHandle() };
            return poll(ref descriptor, 1, 0) == 1 && (descriptor.ReturnedEvents & (PollHup | PollErr)) != 0;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(ref PollDescriptor fds, nuint count, int timeout);

    /// <summary>struct pollfd. No events are asked for: <c>POLLHUP</c> and <c>POLLERR</c> are always reported.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string pathname, int flags, uint mask, [Out] byte[] statxbuf);
}
