using QRCoder;

namespace Atlas.Desktop.Pairing;

/// <summary>QR codes of pairing links (QRCoder): SVG and PNG for the admin UI, half-block text for terminals.</summary>
internal static class QrRenderer
{
    public static string Svg(string text)
    {
        using var data = Create(text);
        return new SvgQRCode(data).GetGraphic(6);
    }

    public static byte[] Png(string text)
    {
        using var data = Create(text);
        return new PngByteQRCode(data).GetGraphic(8);
    }

    /// <summary>The quiet zone (light modules) around the terminal QR code. The standard asks for 4; phone cameras and
    /// zbar read 2 reliably, and every saved module pair is a terminal line.</summary>
    public const int TerminalQuietZone = 2;

    /// <summary>Sets black on bright white for the code's cells, whatever the terminal's theme (SGR 30 and 107).</summary>
    public const string DarkOnLight = "\u001b[30;107m";

    /// <summary>Resets the colours at the end of every line, so nothing bleeds into the rest of the terminal.</summary>
    public const string Reset = "\u001b[0m";

    /// <summary>The QR code for a terminal: two modules per character cell (upper half block ▀, lower half block ▄, full
    /// block █ and space), dark modules drawn in the foreground colour. Every line sets black on bright white explicitly,
    /// so the code reads the same in light and dark themes (a dark theme's light foreground would otherwise invert it).
    /// Error correction L keeps a pairing link of 170 to 200 characters at version 8 or 9: 49 or 53 modules plus the
    /// quiet zone, at most 57 columns by 29 lines.</summary>
    public static IReadOnlyList<string> Terminal(string text)
    {
        using var data = Create(text, QRCodeGenerator.ECCLevel.L);
        var matrix = data.ModuleMatrix;
        var size = matrix.Count;
        var quiet = TerminalQuietZone;
        var span = size + (2 * quiet);
        bool Dark(int x, int y) => x >= quiet && y >= quiet && x < size + quiet && y < size + quiet && matrix[y - quiet][x - quiet];
        var lines = new List<string>((span + 1) / 2);
        var builder = new System.Text.StringBuilder();
        for (var y = 0; y < span; y += 2)
        {
            builder.Clear().Append(DarkOnLight);
            for (var x = 0; x < span; x++)
            {
                builder.Append((Dark(x, y), Dark(x, y + 1)) switch
                {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    _ => ' ',
                });
            }

            lines.Add(builder.Append(Reset).ToString());
        }

        return lines;
    }

    private static QRCodeData Create(string text, QRCodeGenerator.ECCLevel level = QRCodeGenerator.ECCLevel.M)
    {
        using var generator = new QRCodeGenerator();
        return generator.CreateQrCode(text, level);
    }
}
