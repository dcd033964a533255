using System.Buffers.Text;
using System.Globalization;
using System.Net;

namespace Atlas.Client.Pairing;

/// <summary>A parsed pairing link: <c>https://&lt;ip&gt;:&lt;port&gt;/pair#v=1&amp;t=&lt;ticket&gt;&amp;fp=&lt;pin&gt;&amp;exp=&lt;unix&gt;&amp;n=&lt;name&gt;</c>.</summary>
/// <remarks>The secret travels in the fragment, so browsers never send it in a request line, a log or a Referer.</remarks>
public sealed class PairingLink
{
    /// <summary>The longest link accepted (a QR code of version 10 or so holds about this much).</summary>
    public const int MaxLength = 1024;

    private PairingLink(Uri baseUri, string ticket, string fingerprint, DateTimeOffset expiresAt, string desktopName)
    {
        BaseUri = baseUri;
        Ticket = ticket;
        Fingerprint = fingerprint;
        ExpiresAt = expiresAt;
        DesktopName = desktopName;
    }

    /// <summary>The desktop's base address (<c>https://host:port/</c>).</summary>
    public Uri BaseUri { get; }

    /// <summary>The single-use pairing ticket (base64url, 32 bytes).</summary>
    public string Ticket { get; }

    /// <summary>The desktop's certificate pin (base64url SHA-256 of its SPKI).</summary>
    public string Fingerprint { get; }

    /// <summary>When the ticket expires.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The desktop's name.</summary>
    public string DesktopName { get; }

    /// <summary>Builds a link.</summary>
    /// <param name="baseUri">The desktop's https base address.</param>
    /// <param name="ticket">The ticket.</param>
    /// <param name="fingerprint">The pin.</param>
    /// <param name="expiresAt">The ticket's expiry.</param>
    /// <param name="desktopName">The desktop's name.</param>
    /// <returns>The link text.</returns>
    public static string Format(Uri baseUri, string ticket, string fingerprint, DateTimeOffset expiresAt, string desktopName)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        var root = baseUri.GetLeftPart(UriPartial.Authority);
        return string.Create(CultureInfo.InvariantCulture,
            $"{root}/pair#v={AtlasProtocolVersion}&t={ticket}&fp={fingerprint}&exp={expiresAt.ToUnixTimeSeconds()}&n={Uri.EscapeDataString(desktopName)}");
    }

    private const int AtlasProtocolVersion = Protocol.AtlasProtocol.PairingLinkVersion;

    /// <summary>Parses and validates a link, strictly.</summary>
    /// <param name="text">The link (what the QR code holds).</param>
    /// <param name="link">The parsed link.</param>
    /// <param name="error">Why the link was refused.</param>
    /// <returns><see langword="true"/> when the link is valid.</returns>
    public static bool TryParse(string? text, out PairingLink? link, out string error)
    {
        link = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "The pairing link is empty.";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"The pairing link is longer than {MaxLength} characters.";
            return false;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            error = "The pairing link must be an https:// address.";
            return false;
        }

        if (uri.AbsolutePath != "/pair" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            error = "The pairing link must point at /pair with no query and no user name.";
            return false;
        }

        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            && !AddressRanges.IsLocalOrPrivate(IPAddress.Parse(uri.Host.Trim('[', ']'))))
        {
            error = $"The pairing link points at {uri.Host}, which is not a loopback or private network address.";
            return false;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in uri.Fragment.TrimStart('#').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..]);
            if (!fields.TryAdd(key, value))
            {
                error = $"The pairing link has the field '{key}' twice.";
                return false;
            }
        }

        if (!fields.TryGetValue("v", out var version) || version != AtlasProtocolVersion.ToString(CultureInfo.InvariantCulture))
        {
            error = $"The pairing link has version '{version}'; this client understands version {AtlasProtocolVersion}. Update the app.";
            return false;
        }

        if (!fields.TryGetValue("t", out var ticket) || !IsBase64Url32(ticket))
        {
            error = "The pairing link's ticket (t) is missing or is not 32 bytes of base64url.";
            return false;
        }

        if (!fields.TryGetValue("fp", out var fp) || !IsBase64Url32(fp))
        {
            error = "The pairing link's fingerprint (fp) is missing or is not a base64url SHA-256 pin.";
            return false;
        }

        if (!fields.TryGetValue("exp", out var expText)
            || !long.TryParse(expText, NumberStyles.None, CultureInfo.InvariantCulture, out var exp)
            || exp > 253402300799)
        {
            error = "The pairing link's expiry (exp) is missing or not a Unix time.";
            return false;
        }

        var name = fields.GetValueOrDefault("n", "");
        if (name.Length > 64 || name.Any(char.IsControl))
        {
            error = "The pairing link's desktop name (n) is longer than 64 characters or has control characters.";
            return false;
        }

        link = new PairingLink(new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), ticket, fp,
            DateTimeOffset.FromUnixTimeSeconds(exp), name);
        error = "";
        return true;
    }

    /// <summary>Parses a link or throws <see cref="FormatException"/> with the reason.</summary>
    /// <param name="text">The link.</param>
    /// <returns>The parsed link.</returns>
    public static PairingLink Parse(string text) =>
        TryParse(text, out var link, out var error) ? link! : throw new FormatException(error);

    private static bool IsBase64Url32(string value)
    {
        if (value.Length != 43)
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[33];
        return Base64Url.TryDecodeFromChars(value, buffer, out var written) && written == 32;
    }
}
