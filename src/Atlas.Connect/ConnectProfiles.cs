using System.Text;
using Atlas.Client.Credentials;

namespace Atlas.Connect;

/// <summary>The desktops this computer is paired with, one directory each under the state directory:
/// <c>desktops/&lt;name&gt;-&lt;pin prefix&gt;/credentials.json</c> (mode 0600) and <c>client.db</c> (outbox and cache).</summary>
internal sealed class ConnectProfiles
{
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public ConnectProfiles(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    private string DesktopsDirectory => Path.Combine(Root, "desktops");

    /// <summary><c>--state-dir</c>, else <c>$XDG_STATE_HOME/atlas-connect</c>, else <c>~/.local/state/atlas-connect</c>.</summary>
    public static string ResolveRoot(string? option)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return option;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        return Path.Combine(string.IsNullOrEmpty(xdg) || !Path.IsPathRooted(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state")
            : xdg, "atlas-connect");
    }

    public async Task<IReadOnlyList<ConnectProfile>> ListAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(DesktopsDirectory))
        {
            return [];
        }

        var profiles = new List<ConnectProfile>();
        foreach (var directory in Directory.EnumerateDirectories(DesktopsDirectory).Order(StringComparer.Ordinal))
        {
            var profile = new ConnectProfile(directory, null!);
            if (await new FileCredentialStore(profile.CredentialsPath).LoadAsync(cancellationToken).ConfigureAwait(false) is { } credentials)
            {
                profiles.Add(profile with { Credentials = credentials });
            }
        }

        return profiles;
    }

    /// <summary>Picks the desktop to use: the one named by <paramref name="desktop"/> (its name or directory), or the only
    /// one.</summary>
    public async Task<ConnectProfile> PickAsync(string? desktop, CancellationToken cancellationToken)
    {
        var all = await ListAsync(cancellationToken).ConfigureAwait(false);
        if (all.Count == 0)
        {
            throw new CliException(ExitCodes.NotFound,
                $"this computer is not paired with a desktop yet (state directory {Root}). On the desktop run 'atlas pair', then "
                + "'atlas connect <pairing-url>' here.");
        }

        if (desktop is not null)
        {
            var matches = all.Where(p => string.Equals(p.Credentials.DesktopName, desktop, StringComparison.OrdinalIgnoreCase)
                || string.Equals(p.Key, desktop, StringComparison.OrdinalIgnoreCase)).ToList();
            return matches.Count switch
            {
                1 => matches[0],
                0 => throw new CliException(ExitCodes.NotFound, $"no paired desktop is called '{desktop}'. Paired: {Names(all)}."),
                _ => throw new CliException(ExitCodes.Usage, $"several paired desktops are called '{desktop}'; pick one by directory: {string.Join(", ", matches.Select(m => m.Key))}."),
            };
        }

        return all.Count == 1
            ? all[0]
            : throw new CliException(ExitCodes.Usage, $"this computer is paired with several desktops; pick one with --desktop NAME. Paired: {Names(all)}.");
    }

    /// <summary>The profile for a (new) pairing; pairing again with the same desktop replaces the old credentials.</summary>
    public ConnectProfile For(DeviceCredentials credentials)
    {
        CreatePrivateDirectory(Root);
        CreatePrivateDirectory(DesktopsDirectory);
        var directory = Path.Combine(DesktopsDirectory, Slug(credentials.DesktopName) + "-" + Slug(credentials.Fingerprint[..8]));
        CreatePrivateDirectory(directory);
        return new ConnectProfile(directory, credentials);
    }

    private static string Names(IEnumerable<ConnectProfile> all) =>
        string.Join(", ", all.Select(p => $"'{p.Credentials.DesktopName}' ({p.Key})"));

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, PrivateDirectory);
        }
    }

    private static string Slug(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text.Trim())
        {
            if (builder.Length >= 40)
            {
                break;
            }

            builder.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        }

        var slug = builder.ToString().Trim('-');
        return slug.Length == 0 ? "desktop" : slug;
    }
}

/// <summary>One paired desktop.</summary>
internal sealed record ConnectProfile(string Directory, DeviceCredentials Credentials)
{
    public string Key => Path.GetFileName(Directory);

    public string CredentialsPath => Path.Combine(Directory, "credentials.json");

    public string DatabasePath => Path.Combine(Directory, "client.db");
}
