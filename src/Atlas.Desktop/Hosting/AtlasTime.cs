namespace Atlas.Desktop.Hosting;

/// <summary>The clock of Atlas's own logic (ticket and session expiry, heartbeats). Kept apart from the
/// <see cref="TimeProvider"/> service that Kestrel resolves for its transport timeouts, so tests can drive Atlas's time
/// with a fake clock without also firing Kestrel's timeouts.</summary>
internal sealed class AtlasTime
{
    public AtlasTime(TimeProvider provider)
    {
        Provider = provider;
    }

    public TimeProvider Provider { get; }
}
