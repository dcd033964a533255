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
            return new CliException(ExitCodeOf(atlas.Code), $"{TerminalText.Clean(atlas.Message)} ({atlas.Code}).{hint}");
        }

        return AtlasReachability.IsUnreachable(e)
            ? new CliException(ExitCodes.Unreachable, $"cannot reach '{desktopName}' at {desktop} ({TerminalText.Clean(e.Message)}). "
                + "Is 'atlas serve' running there, and is this computer on the same network?")
            : null;
    }
}
