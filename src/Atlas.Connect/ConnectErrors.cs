using Atlas.Client;
using Atlas.Client.Connection;
using Atlas.Client.Protocol;

namespace Atlas.Connect;

/// <summary>Maps what can go wrong while talking to a desktop to an exit code and a message that says what to do.</summary>
internal static class ConnectErrors
{
    public static int ExitCodeOf(string code) => code switch
    {
        ErrorCodes.Revoked => ExitCodes.Revoked,
        ErrorCodes.LlmNotConfigured => ExitCodes.LlmNotConfigured,
        ErrorCodes.Forbidden or ErrorCodes.ToolDenied => ExitCodes.PermissionDenied,
        ErrorCodes.PairingFailed or ErrorCodes.PairingDenied or ErrorCodes.PairingClosed or ErrorCodes.PairingPending => ExitCodes.PairingRefused,
        ErrorCodes.NotFound => ExitCodes.NotFound,
        ErrorCodes.Cancelled => ExitCodes.Interrupted,
        _ when code.StartsWith("llm_", StringComparison.Ordinal) => ExitCodes.ChatFailed,
        ErrorCodes.ModelUnsupported or ErrorCodes.Interrupted or ErrorCodes.ToolFailed or ErrorCodes.InternalError => ExitCodes.ChatFailed,
        _ => ExitCodes.Refused,
    };

    /// <summary>An error as one line for the terminal: its message, then its code in parentheses. A message that already
    /// ends with a detail code of its own (the media pipeline's, as in "… (unsupported_format)") gets one parenthesis
    /// with both, "(unsupported_media: unsupported_format)", instead of two codes in a row.</summary>
    public static string Format(string code, string? message)
    {
        var text = TerminalText.Clean(message ?? "").TrimEnd();
        if (text.EndsWith(')') && text.LastIndexOf(" (", StringComparison.Ordinal) is var open and >= 0
            && text[(open + 2)..^1] is { Length: > 0 } detail && detail.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
        {
            text = text[..open];
            return detail == code ? $"{text} ({code})" : $"{text} ({code}: {detail})";
        }

        return $"{text} ({code})";
    }

    /// <summary>Turns an exception into a <see cref="CliException"/>, or returns <see langword="null"/> when it is not one
    /// of the expected failures.</summary>
    public static CliException? Describe(Exception e, Uri desktop, string desktopName)
    {
        if (AtlasReachability.IsCertificateMismatch(e))
        {
            return new CliException(ExitCodes.CertificateMismatch,
                $"the server at {desktop} does not have the certificate key this device pinned for '{desktopName}'. Nothing was sent. "
                + "Someone may be intercepting the connection, or the desktop's identity was reset; if you reset it yourself, pair again with a new link.");
        }

        if (e is AtlasException atlas)
        {
            var hint = atlas.Code switch
            {
                ErrorCodes.Revoked => $" This device was revoked on '{desktopName}'; pair again with a new link from 'atlas pair'.",
                ErrorCodes.Forbidden => " Ask the desktop's user to grant it ('atlas devices permissions ID --set …').",
                _ => "",
            };
            return new CliException(ExitCodeOf(atlas.Code), $"{Format(atlas.Code, atlas.Message)}.{hint}");
        }

        return AtlasReachability.IsUnreachable(e)
            ? new CliException(ExitCodes.Unreachable, $"cannot reach '{desktopName}' at {desktop} ({TerminalText.Clean(e.Message)}). "
                + "Is 'atlas serve' running there, and is this computer on the same network?")
            : null;
    }
}
