using System.Collections.Concurrent;
using Atlas.Desktop.Auth;
using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.Admin;

/// <summary>One-time admin links and the admin browser sessions they turn into (in memory: a restart prints a new link).</summary>
internal sealed class AdminSessions
{
    public const string CookieName = "__Host-atlas_admin";
    private static readonly TimeSpan LinkLifetime = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(12);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);
    private readonly DesktopInfo _desktop;
    private readonly TimeProvider _time;

    public AdminSessions(DesktopInfo desktop, AtlasTime time)
    {
        _desktop = desktop;
        _time = time.Provider;
    }

    /// <summary>A link that works once (the code is in the fragment, so it never reaches a log).</summary>
    public string CreateLink()
    {
        var code = Secrets.NewSecret();
        _links[Convert.ToHexString(Secrets.Hash(code))] = _time.GetUtcNow() + LinkLifetime;
        return new Uri(_desktop.AdminBaseUri, "admin#code=" + code).ToString();
    }

    public string? Redeem(string? code)
    {
        if (!Secrets.LooksLikeSecret(code)
            || !_links.TryRemove(Convert.ToHexString(Secrets.Hash(code!)), out var expires)
            || expires <= _time.GetUtcNow())
        {
            return null;
        }

        var session = Secrets.NewSecret();
        _sessions[Convert.ToHexString(Secrets.Hash(session))] = _time.GetUtcNow() + SessionLifetime;
        return session;
    }

    public bool IsValid(string? session) =>
        Secrets.LooksLikeSecret(session)
        && _sessions.TryGetValue(Convert.ToHexString(Secrets.Hash(session!)), out var expires)
        && expires > _time.GetUtcNow();

    public void End(string? session)
    {
        if (Secrets.LooksLikeSecret(session))
        {
            _sessions.TryRemove(Convert.ToHexString(Secrets.Hash(session!)), out _);
        }
    }
}
