using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Atlas.Client.Pairing;
using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.Identity;

/// <summary>The desktop's TLS identity, in one of two modes. Quick mode (<c>self-signed</c>, the default): an ECDSA P-256
/// key made on first run (key file 0600) and a self-signed certificate re-issued with that key at every start for the
/// current addresses; the pin is that key's SPKI. Trusted mode (<c>local-ca</c>): a <see cref="LocalCertificateAuthority"/>
/// issues short-lived serving certificates; the pin is the CA's SPKI and the CA certificate goes with every handshake. A
/// user-supplied certificate (<c>Atlas:Certificate:Path</c>) replaces both. The mode can change while the desktop runs
/// (<see cref="SetMode"/>, <see cref="RotateAuthority"/>); every handshake takes the current certificate.</summary>
internal sealed class DesktopIdentity : IDisposable
{
    public const string SelfSignedMode = "self-signed";
    public const string LocalCaMode = "local-ca";
    public const string UserCertificateMode = "certificate";

    /// <summary>The file in the identity directory that keeps the mode chosen in the admin UI or with <c>atlas tls</c>.</summary>
    public const string ModeFileName = "tls-mode";

    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _directory;
    private readonly string _desktopName;
    private readonly IReadOnlyList<IPAddress> _addresses;
    private readonly IReadOnlyList<string> _hostNames;
    private readonly TimeSpan _servingLifetime;
    private readonly Lock _gate = new();
    private TimeProvider _time;
    private volatile State _state;

    private DesktopIdentity(string directory, string desktopName, IReadOnlyList<IPAddress> addresses, IReadOnlyList<string> hostNames,
        TimeSpan servingLifetime, TimeProvider time, State state)
    {
        _directory = directory;
        _desktopName = desktopName;
        _addresses = addresses;
        _hostNames = hostNames;
        _servingLifetime = servingLifetime;
        _time = time;
        _state = state;
    }

    /// <summary><see cref="SelfSignedMode"/>, <see cref="LocalCaMode"/> or <see cref="UserCertificateMode"/>.</summary>
    public string Mode => _state.Mode;

    /// <summary>The serving certificate of the latest handshake (or of the start).</summary>
    public X509Certificate2 Certificate => _state.Certificate;

    /// <summary>The CA certificate in trusted mode, else <see langword="null"/>.</summary>
    public X509Certificate2? Authority => _state.Authority?.Authority;

    /// <summary>base64url(SHA-256(SPKI)): of the serving key in quick mode, of the CA key in trusted mode.</summary>
    public string Pin => _state.Pin;

    public bool SelfSigned => _state.Mode == SelfSignedMode;

    public string DisplayFingerprint => SpkiPin.ToDisplay(Pin);

    /// <summary>SHA-256 of the DER certificate, "AB:CD:…" (the form browsers' certificate viewers show): of the serving
    /// certificate in quick mode, of the CA certificate (what a phone installs) in trusted mode.</summary>
    public string CertificateSha256 => Sha256(_state.Authority?.Authority ?? Certificate);

    /// <summary>Raised after the mode or the CA changed (not on a routine renewal: the pin stays).</summary>
    public event Action? Changed;

    public static string Sha256(X509Certificate2 certificate) =>
        string.Join(':', SHA256.HashData(certificate.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    public static DesktopIdentity Load(string identityDirectory, CertificateOptions options, IEnumerable<IPAddress> addresses,
        IEnumerable<string> hostNames, TimeProvider time) =>
        Load(identityDirectory, options, SelfSignedMode, "Atlas", addresses, hostNames, new TlsOptions().CertificateLifetime, time);

    /// <summary>Loads the identity in <paramref name="mode"/> (ignored with a user-supplied certificate).</summary>
    public static DesktopIdentity Load(string identityDirectory, CertificateOptions options, string mode, string desktopName,
        IEnumerable<IPAddress> addresses, IEnumerable<string> hostNames, TimeSpan servingLifetime, TimeProvider time)
    {
        IReadOnlyList<IPAddress> ips = [.. addresses];
        IReadOnlyList<string> names = [.. hostNames];
        if (!string.IsNullOrEmpty(options.Path))
        {
            var certificate = LoadUserCertificate(options);
            return new DesktopIdentity(identityDirectory, desktopName, ips, names, servingLifetime, time,
                new State(UserCertificateMode, certificate, Context(certificate, null), SpkiPin.Compute(certificate), null));
        }

        var identity = new DesktopIdentity(identityDirectory, desktopName, ips, names, servingLifetime, time, null!);
        identity._state = identity.Create(mode);
        return identity;
    }

    /// <summary>The mode stored by the admin UI or <c>atlas tls</c>, or <see langword="null"/> when none was chosen.</summary>
    public static string? StoredMode(string identityDirectory)
    {
        var path = Path.Combine(identityDirectory, ModeFileName);
        return File.Exists(path) ? File.ReadAllText(path).Trim() is { Length: > 0 } mode ? mode : null : null;
    }

    /// <summary>Uses <paramref name="time"/> for renewals from now on (the host's time provider, known once it is built).</summary>
    public void UseTime(TimeProvider time) => _time = time;

    /// <summary>The certificate (with its chain: the CA in trusted mode) for a new handshake; renews the serving
    /// certificate first when it is due.</summary>
    public SslStreamCertificateContext CurrentContext()
    {
        var state = _state;
        if (state.Authority is not { } authority)
        {
            return state.Context;
        }

        var serving = authority.ServingCertificate(_addresses, _hostNames, _time.GetUtcNow());
        if (ReferenceEquals(serving, state.Certificate))
        {
            return state.Context;
        }

        lock (_gate)
        {
            if (_state.Authority == authority && !ReferenceEquals(_state.Certificate, serving))
            {
                _state = _state with { Certificate = serving, Context = Context(serving, authority.Authority) };
            }

            return _state.Context;
        }
    }

    /// <summary>Switches between quick and trusted mode and remembers the choice in the data directory. Turning trusted
    /// mode off deletes the CA key, so the CA a phone installed can never vouch for anything again.</summary>
    /// <returns>Whether the pin changed.</returns>
    public bool SetMode(string mode)
    {
        lock (_gate)
        {
            if (_state.Mode == UserCertificateMode)
            {
                throw new InvalidOperationException("The desktop uses the certificate from Atlas:Certificate:Path; remove that setting to choose a mode.");
            }

            WriteMode(mode);
            if (string.Equals(_state.Mode, mode, StringComparison.Ordinal))
            {
                return false;
            }

            var previous = _state;
            if (mode == SelfSignedMode)
            {
                LocalCertificateAuthority.Destroy(_directory);
            }

            _state = Create(mode);
            previous.Authority?.Dispose();
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>Trusted mode only: replaces the CA (new key, new certificate, new serving certificate). The old CA key is
    /// deleted; phones must install the new CA and pair again.</summary>
    public void RotateAuthority()
    {
        lock (_gate)
        {
            if (_state.Mode != LocalCaMode)
            {
                throw new InvalidOperationException("Trusted mode is off: there is no CA to rotate.");
            }

            var previous = _state;
            LocalCertificateAuthority.Destroy(_directory);
            _state = Create(LocalCaMode);
            previous.Authority?.Dispose();
        }

        Changed?.Invoke();
    }

    private State Create(string mode)
    {
        var now = _time.GetUtcNow();
        if (mode == LocalCaMode)
        {
            var authority = LocalCertificateAuthority.LoadOrCreate(_directory, _desktopName, _addresses, _hostNames, _servingLifetime, _time);
            var serving = authority.ServingCertificate(_addresses, _hostNames, now);
            return new State(LocalCaMode, serving, Context(serving, authority.Authority), SpkiPin.Compute(authority.Authority), authority);
        }

        using var key = LoadOrCreateKey(Path.Combine(_directory, "key.pem"), "identity key");
        var certificate = Issue(key, _addresses, _hostNames, _time);
        File.WriteAllText(Path.Combine(_directory, "cert.pem"), certificate.ExportCertificatePem());
        return new State(SelfSignedMode, certificate, Context(certificate, null), SpkiPin.Compute(certificate), null);
    }

    private void WriteMode(string mode)
    {
        var path = Path.Combine(_directory, ModeFileName);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, mode + "\n");
        File.Move(temporary, path, overwrite: true);
    }

    private static SslStreamCertificateContext Context(X509Certificate2 certificate, X509Certificate2? authority) =>
        SslStreamCertificateContext.Create(certificate, authority is null ? null : [authority], offline: true);

    private static X509Certificate2 LoadUserCertificate(CertificateOptions options)
    {
        var path = options.Path!;
        try
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
            }

            var certificate = X509Certificate2.CreateFromPemFile(path, options.KeyPath);
            if (!certificate.HasPrivateKey)
            {
                throw new InvalidOperationException("the file has no private key; set Atlas:Certificate:KeyPath to its key file");
            }

            return certificate;
        }
        catch (Exception e) when (e is CryptographicException or InvalidOperationException or IOException)
        {
            throw new InvalidOperationException(
                $"Atlas:Certificate:Path '{path}' could not be loaded ({e.Message}). Use a PEM certificate with "
                + "Atlas:Certificate:KeyPath, or a PFX/P12 file with Atlas:Certificate:Password.", e);
        }
    }

    /// <summary>Loads an ECDSA P-256 key from a PEM file, or makes one there (created 0600; a widened mode is narrowed).</summary>
    internal static ECDsa LoadOrCreateKey(string keyPath, string what)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(keyPath))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyPath) & ~PrivateFile) != 0)
            {
                // Someone widened the key's permissions: narrow them again before using it.
                File.SetUnixFileMode(keyPath, PrivateFile);
            }

            try
            {
                key.ImportFromPem(File.ReadAllText(keyPath));
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new InvalidOperationException(
                    $"The {what} {keyPath} is unreadable ({e.Message}). Restore it from a backup, or delete it to create a "
                    + "new identity (every paired device will then have to pair again).", e);
            }

            return key;
        }

        var pem = key.ExportPkcs8PrivateKeyPem();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFile;
        }

        using (var stream = new FileStream(keyPath, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(pem);
        }

        return key;
    }

    private static X509Certificate2 Issue(ECDsa key, IEnumerable<IPAddress> addresses, IEnumerable<string> hostNames, TimeProvider time)
    {
        var request = new CertificateRequest("CN=Atlas desktop", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in hostNames.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            san.AddDnsName(name);
        }

        foreach (var address in addresses.Distinct())
        {
            san.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = time.GetUtcNow();
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(365));
    }

    public void Dispose()
    {
        _state.Authority?.Dispose();
        _state.Certificate.Dispose();
    }

    private sealed record State(string Mode, X509Certificate2 Certificate, SslStreamCertificateContext Context, string Pin,
        LocalCertificateAuthority? Authority);
}
