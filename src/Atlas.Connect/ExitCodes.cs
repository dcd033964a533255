namespace Atlas.Connect;

/// <summary>Process exit codes of the <c>atlas</c> CLI (documented in docs/atlas-configuration.md and, for
/// <c>atlas connect</c>, docs/atlas-connect.md). They live here, not in the executable, because the executable
/// references this project and both use them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int NotRunning = 2;
    public const int NotFound = 3;
    public const int Refused = 4;
    public const int Configuration = 5;

    /// <summary><c>atlas connect</c>: the desktop could not be reached (down, wrong address, network).</summary>
    public const int Unreachable = 6;

    /// <summary><c>atlas connect</c>: this device was revoked on the desktop; pair again.</summary>
    public const int Revoked = 7;

    /// <summary><c>atlas connect</c>: the desktop has no LLM configured.</summary>
    public const int LlmNotConfigured = 8;

    /// <summary><c>atlas connect</c>: the device lacks the permission (chat, files.read, files.write, media.process).</summary>
    public const int PermissionDenied = 9;

    /// <summary><c>atlas connect</c>: the desktop's certificate does not match the pinned fingerprint.</summary>
    public const int CertificateMismatch = 10;

    /// <summary><c>atlas connect</c>: pairing was refused (expired or used link, denied, pairing closed).</summary>
    public const int PairingRefused = 11;

    /// <summary><c>atlas connect</c>: the answer failed (provider error, truncated, interrupted).</summary>
    public const int ChatFailed = 12;

    /// <summary><c>atlas connect --queue</c>: the desktop was unreachable and the message waits in the outbox.</summary>
    public const int Queued = 13;

    /// <summary><c>atlas connect</c>: stopped by Ctrl+C (the answer was cancelled).</summary>
    public const int Interrupted = 130;
}
