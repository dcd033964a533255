using Atlas.Client;
using Atlas.Client.Protocol;
using Microsoft.Net.Http.Headers;

namespace Atlas.Desktop.Files;

/// <summary>The conditions of a conditional file request: <c>If-Match</c> (the file must exist with one of these entity
/// tags, or exist at all for <c>*</c>) and <c>If-None-Match: *</c> (nothing may exist at the path). A client that queued a
/// change offline sends what it saw, so a file changed on the desktop meanwhile is refused with
/// <c>precondition_failed</c> instead of being overwritten, moved or deleted.</summary>
internal sealed record FileCondition(IReadOnlyList<string> IfMatch, bool IfMatchAny, bool IfNoneMatchAny)
{
    /// <summary>The entity tag of a file: its size and last write time, so it changes when an atomic replace or an
    /// append changes the file (a rename keeps it).</summary>
    public static string ETagOf(long size, DateTime lastWriteUtc) =>
        $"\"{size:x}-{lastWriteUtc.Ticks:x}\"";

    /// <summary>The request's conditions, or null when it has none.</summary>
    public static FileCondition? From(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ifMatch = request.Headers.IfMatch.ToString();
        var ifNoneMatch = request.Headers.IfNoneMatch.ToString();
        if (ifMatch.Length == 0 && ifNoneMatch.Length == 0)
        {
            return null;
        }

        if (ifNoneMatch.Length > 0 && ifNoneMatch.Trim() != "*")
        {
            throw new AtlasException(ErrorCodes.BadRequest, "If-None-Match on a file change takes only '*' (the path must not exist).");
        }

        var tags = new List<string>();
        var any = false;
        if (ifMatch.Length > 0)
        {
            if (!EntityTagHeaderValue.TryParseList([ifMatch], out var parsed) || parsed.Count == 0)
            {
                throw new AtlasException(ErrorCodes.BadRequest, "If-Match takes '*' or quoted entity tags as the listing gives them.");
            }

            foreach (var tag in parsed)
            {
                if (tag.Equals(EntityTagHeaderValue.Any))
                {
                    any = true;
                }
                else
                {
                    tags.Add(tag.Tag.Value!); // weak comparison: the W/ prefix is ignored
                }
            }
        }

        return new FileCondition(tags, any, ifNoneMatch.Length > 0);
    }

    /// <summary>Throws <c>precondition_failed</c> unless the entry at <paramref name="relative"/> (null: nothing there)
    /// satisfies the conditions. Called under the device's write lock, right before the change.</summary>
    public void Check(string relative, FileEntry? current)
    {
        var shown = relative.Length == 0 ? "/" : relative;
        if (IfNoneMatchAny && current is not null)
        {
            throw new AtlasException(ErrorCodes.PreconditionFailed,
                $"'{shown}' exists on the desktop (created since this change was made); nothing was changed.");
        }

        if (IfMatch.Count == 0 && !IfMatchAny)
        {
            return;
        }

        if (current is null)
        {
            throw new AtlasException(ErrorCodes.PreconditionFailed, $"'{shown}' no longer exists on the desktop; nothing was changed.");
        }

        if (!IfMatchAny && (current.ETag is null || !IfMatch.Contains(current.ETag, StringComparer.Ordinal)))
        {
            throw new AtlasException(ErrorCodes.PreconditionFailed,
                $"'{shown}' changed on the desktop since this change was made (now {current.Size} bytes, modified {current.Modified:u}, "
                + $"ETag {current.ETag ?? "none"}); nothing was changed.");
        }
    }
}
