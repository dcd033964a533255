using System.Globalization;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Pairing;
using Atlas.Desktop.Storage;

namespace Atlas.Desktop.Cli;

/// <summary>What <c>atlas serve</c> and <c>atlas pair</c> print. The startup text fits an 80×24 terminal; the pairing
/// QR code does not fit next to it (a pairing link of 170 to 200 characters is a version 8 or 9 code: 27 to 29 lines even
/// at two modules per line), so startup shows it only when the terminal is tall enough and otherwise points to the admin UI
/// (which shows it large) and to <c>atlas pair</c>.</summary>
internal static class StartupOutput
{
    /// <summary>The terminal size every startup text fits.</summary>
    public const int Columns = 80;

    /// <summary>The terminal height every startup text fits.</summary>
    public const int Rows = 24;

    /// <summary>The lines <c>atlas serve</c> prints once it listens; with <paramref name="qr"/> the pairing QR code
    /// follows (for a terminal with room for it).</summary>
    public static List<string> Serve(DesktopInfo desktop, string adminLink, string pairingUrl, DateTimeOffset expiresAt, bool qr)
    {
        var lines = new List<string>
        {
            $"Atlas desktop '{desktop.Name}' is running.",
            $"  Data:        {desktop.DataDirectory}",
        };
        var urls = desktop.Urls;
        for (var i = 0; i < urls.Count; i++)
        {
            lines.Add((i == 0 ? "  Listening:   " : "               ") + urls[i]);
        }

        if (desktop.LanAddresses.Count == 0)
        {
            lines.Add("               (no private LAN address: only this computer can connect;");
            lines.Add("                see Atlas:Network:Interfaces)");
        }

        var (first, second) = Fingerprint(desktop.DisplayFingerprint);
        lines.Add($"  Fingerprint: {first}");
        if (second.Length > 0)
        {
            lines.Add($"               {second}");
        }

        if (desktop.SelfSigned)
        {
            lines.Add("               (self-signed; the phone's pairing page shows this fingerprint)");
        }
        else if (desktop.TlsMode == Identity.DesktopIdentity.LocalCaMode)
        {
            lines.Add("               (trusted mode: the local CA; phones install it from the pairing page)");
        }

        // The link alone on its line (78 columns), so it fits and a terminal can open it with a click.
        lines.Add("  Admin UI:    one-time link for this computer ('atlas admin' prints another):");
        lines.Add(adminLink);
        lines.Add("");
        if (qr)
        {
            lines.AddRange(Pair(pairingUrl, expiresAt));
            return lines;
        }

        lines.Add("Pair a phone: open the admin UI link above and scan its QR code with the");
        lines.Add($"phone's camera (valid until {Time(expiresAt)}, single use), or run 'atlas pair'");
        lines.Add("in a terminal of 35 rows or more for a QR code there. The pairing link itself");
        lines.Add("(for 'atlas connect' or another device):");
        lines.Add(pairingUrl);
        lines.Add("Phones waiting for approval show up here, in the admin UI and as a notification.");
        return lines;
    }

    /// <summary>What <c>atlas pair</c> prints: the QR code (explicit colours, readable in light and dark themes), when it
    /// expires, the link itself (for <c>atlas connect</c> or another device) and the fingerprint.</summary>
    public static List<string> Pair(string url, DateTimeOffset expiresAt)
    {
        var lines = new List<string> { "Pair a phone: scan this QR code with its camera." };
        lines.AddRange(QrRenderer.Terminal(url));
        lines.Add($"Valid until {Time(expiresAt)}, single use; 'atlas pair' makes a new one. Link:");
        lines.Add(url);
        return lines;
    }

    /// <summary>The one prominent line <c>atlas serve</c> prints when a phone waits for approval.</summary>
    public static string ApprovalNeeded(DeviceRecord device, Uri adminBaseUri, bool styled)
    {
        var text = $">>> Approval needed: '{device.Name}' ({device.Platform}) check code {device.CheckCode}. "
            + $"Approve: atlas devices approve {device.Id}  or {adminBaseUri}admin";
        return styled ? $"\u001b[1;7m{text}\u001b[0m\a" : text;
    }

    /// <summary>The number of terminal lines <paramref name="lines"/> take in a terminal of <see cref="Columns"/>
    /// columns (long lines wrap; escape sequences take no room).</summary>
    public static int TerminalRows(IEnumerable<string> lines) =>
        lines.Sum(l => Math.Max(1, (VisibleWidth(l) + Columns - 1) / Columns));

    /// <summary>The printed width of a line: escape sequences and the bell take no column.</summary>
    public static int VisibleWidth(string line)
    {
        var width = 0;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\u001b')
            {
                while (i < line.Length && !char.IsAsciiLetter(line[i]))
                {
                    i++;
                }
            }
            else if (line[i] != '\a')
            {
                width++;
            }
        }

        return width;
    }

    /// <summary>The fingerprint within 80 columns (a longer form, such as 32 bytes of colon-separated hex, takes two
    /// lines).</summary>
    private static (string First, string Second) Fingerprint(string display) =>
        display.Length <= Columns - 15 ? (display, "") : (display[..47], display[48..]);

    private static string Time(DateTimeOffset at) => at.ToLocalTime().ToString("T", CultureInfo.CurrentCulture);
}
