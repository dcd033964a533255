using System.Runtime.InteropServices;

namespace Mmcp.Core.Interop;

/// <summary>The few libc calls .NET has no managed API for.</summary>
internal static partial class Libc
{
    [LibraryImport("libc", SetLastError = true)]
    internal static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statx(int dirfd, string pathname, int flags, uint mask, [Out] byte[] statxbuf);
}
