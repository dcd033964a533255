namespace Atlas.Client;

/// <summary>Options of <see cref="AtlasClient"/>.</summary>
public sealed class AtlasClientOptions
{
    /// <summary>Timeout of one HTTP request. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Renew the session when it has less than this left. Default 2 minutes.</summary>
    public TimeSpan SessionRenewBefore { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>First reconnect delay; doubles per attempt with full jitter. Default 250 ms.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest reconnect delay. Default 30 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Application-level heartbeat interval used until the server announces its own. Default 15 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Largest frame the client accepts. Default 4 MiB.</summary>
    public int MaxFrameBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Time provider (tests use a fake).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
