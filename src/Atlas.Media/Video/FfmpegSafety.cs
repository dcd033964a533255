namespace Atlas.Media.Video;

/// <summary>
/// The arguments that keep ffmpeg and ffprobe on the one staged file: only the <c>file</c> protocol, the demuxer
/// forced to the format sniffed from the bytes (so playlists, concat scripts and image sequences are never
/// auto-detected), no external data references, and an explicit <c>file:</c> URL so a name can never be read as
/// another protocol.
/// </summary>
internal static class FfmpegSafety
{
    public static IEnumerable<string> InputArguments(string demuxer, string path)
    {
        yield return "-protocol_whitelist";
        yield return "file";
        yield return "-f";
        yield return demuxer;
        if (demuxer == "mov")
        {
            // Never follow data references to other files (already ffmpeg's default; stated so it stays that way).
            yield return "-enable_drefs";
            yield return "0";
        }

        yield return "-i";
        yield return "file:" + path;
    }

    /// <summary>Names ffprobe reports for each forced demuxer; anything else means the file was not what it seemed.</summary>
    public static bool IsExpectedContainer(string demuxer, string reported) => demuxer switch
    {
        "mov" => reported.Contains("mov", StringComparison.Ordinal) || reported.Contains("mp4", StringComparison.Ordinal),
        "matroska" => reported.Contains("matroska", StringComparison.Ordinal) || reported.Contains("webm", StringComparison.Ordinal),
        _ => reported.Split(',').Contains(demuxer, StringComparer.Ordinal),
    };
}
