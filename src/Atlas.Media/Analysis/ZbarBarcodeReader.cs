using System.Text;
using System.Xml;
using System.Xml.Linq;
using Atlas.Media.Processes;

namespace Atlas.Media.Analysis;

/// <summary>
/// QR codes and barcodes (EAN, UPC, Code 128/39, …) with zbar's <c>zbarimg</c>, payloads byte for byte.
/// </summary>
/// <remarks>
/// zbar 0.23.92's <c>--xml</c> output gives each symbol's type, orientation and payload length, but its base64 payload
/// is lossy for non-ASCII data (bytes above 0x7F come back as 0xFF…). So when any payload is not plain ASCII, two more
/// runs fetch the payloads of all symbols in the same order: <c>--raw</c> (zbar's text, one line per symbol, binary
/// data turned from Latin-1 into UTF-8; the XML lengths are of this text, so it can be split even when a payload holds
/// line breaks) and <c>--raw -Sbinary</c> (the exact bytes, concatenated with no separator), which is split by matching
/// each symbol's text as UTF-8 or as Latin-1 bytes. If nothing matches, zbar's text is kept.
/// </remarks>
internal sealed class ZbarBarcodeReader : IBarcodeReader
{
    private const string Program = "zbarimg";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ToolRunner _runner;
    private string? _version;

    public ZbarBarcodeReader(ToolRunner runner)
    {
        _runner = runner;
    }

    public string Name => "zbar";

    public async ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        if (_version is null)
        {
            var outcome = await _runner.RunAsync(new ToolInvocation(Program, ["--version"]), cancellationToken).ConfigureAwait(false);
            _version = "zbar " + outcome.StandardOutput.Trim() + " raw-bytes";
        }

        return _version;
    }

    public async Task<IReadOnlyList<DecodedCode>> DecodeAsync(string imagePath, CancellationToken cancellationToken = default)
    {
        // Exit code 4 means "no code found", which is a normal answer.
        var outcome = await _runner.RunAsync(
            new ToolInvocation(Program, ["--quiet", "--xml", imagePath]) { SuccessExitCodes = [0, 4] },
            cancellationToken).ConfigureAwait(false);
        var symbols = ParseXml(outcome.StandardOutput);
        if (symbols.All(s => s.IsAscii))
        {
            return symbols.Select(s => ToCode(s, s.XmlBytes)).ToList();
        }

        var text = RunRawAsync(imagePath, binary: false, cancellationToken);
        var exact = RunRawAsync(imagePath, binary: true, cancellationToken);
        var textBytes = await text.ConfigureAwait(false);
        var exactBytes = await exact.ConfigureAwait(false);
        return Combine(symbols, textBytes, exactBytes);
    }

    private async Task<byte[]> RunRawAsync(string imagePath, bool binary, CancellationToken cancellationToken)
    {
        string[] args = binary ? ["--quiet", "--raw", "-Sbinary", imagePath] : ["--quiet", "--raw", imagePath];
        var outcome = await _runner.RunAsync(new ToolInvocation(Program, args) { SuccessExitCodes = [0, 4], BinaryOutput = true }, cancellationToken).ConfigureAwait(false);
        return outcome.StandardOutputBytes;
    }

    /// <summary>Splits zbar's text output by the XML lengths, then finds each symbol's exact bytes in the binary output.</summary>
    internal static IReadOnlyList<DecodedCode> Combine(IReadOnlyList<XmlSymbol> symbols, ReadOnlySpan<byte> text, ReadOnlySpan<byte> exact)
    {
        if (symbols.Sum(s => (long)s.Length + 1) != text.Length)
        {
            // zbar's outputs disagree: only the ASCII payloads of the XML run are known to be right.
            return symbols.Where(s => s.IsAscii).Select(s => ToCode(s, s.XmlBytes)).ToList();
        }

        var texts = new List<byte[]>(symbols.Count);
        var offset = 0;
        foreach (var symbol in symbols)
        {
            texts.Add(text.Slice(offset, symbol.Length).ToArray());
            offset += symbol.Length + 1; // the line break zbarimg writes after each symbol
        }

        var result = new List<DecodedCode>(symbols.Count);
        var at = 0;
        for (var i = 0; i < symbols.Count; i++)
        {
            var bytes = at >= 0 ? MatchExact(texts[i], exact[at..]) : null;
            if (bytes is null)
            {
                at = -1; // lost the thread: the rest keep zbar's text
                result.Add(ToCode(symbols[i], texts[i]));
                continue;
            }

            at += bytes.Length;
            result.Add(ToCode(symbols[i], bytes));
        }

        return result;
    }

    /// <summary>The symbol's exact bytes at the start of <paramref name="exact"/>: its text as UTF-8, or as Latin-1 when zbar converted binary data.</summary>
    private static byte[]? MatchExact(byte[] utf8, ReadOnlySpan<byte> exact)
    {
        if (exact.StartsWith(utf8))
        {
            return utf8;
        }

        string decoded;
        try
        {
            decoded = StrictUtf8.GetString(utf8);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        if (decoded.Any(c => c > '\u00FF'))
        {
            return null;
        }

        var latin1 = Encoding.Latin1.GetBytes(decoded);
        return exact.StartsWith(latin1) ? latin1 : null;
    }

    private static DecodedCode ToCode(XmlSymbol symbol, byte[] bytes)
    {
        string text;
        string? base64 = null;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            text = Encoding.Latin1.GetString(bytes);
            base64 = Convert.ToBase64String(bytes);
        }

        return new DecodedCode { Symbology = symbol.Type, Text = text, Base64 = base64, Orientation = symbol.Orientation };
    }

    internal static IReadOnlyList<XmlSymbol> ParseXml(string xml)
    {
        if (string.IsNullOrWhiteSpace(xml))
        {
            return [];
        }

        try
        {
            var doc = XDocument.Parse(xml);
            var result = new List<XmlSymbol>();
            foreach (var symbol in doc.Descendants().Where(e => e.Name.LocalName == "symbol"))
            {
                var data = symbol.Elements().FirstOrDefault(e => e.Name.LocalName == "data");
                if (data is null)
                {
                    continue;
                }

                var bytes = (string?)data.Attribute("format") == "base64"
                    ? Convert.FromBase64String(data.Value.Trim())
                    : Encoding.UTF8.GetBytes(data.Value);
                var length = int.TryParse((string?)data.Attribute("length"), out var n) && n >= 0 ? n : bytes.Length;
                result.Add(new XmlSymbol(
                    (string?)symbol.Attribute("type") ?? "unknown",
                    ((string?)symbol.Attribute("orientation"))?.ToLowerInvariant(),
                    length,
                    bytes));
            }

            return result;
        }
        catch (Exception ex) when (ex is XmlException or FormatException)
        {
            throw new MediaException(MediaErrorCode.ToolFailed, "zbarimg returned unreadable output.", ex);
        }
    }

    /// <summary>One symbol of the XML run: its payload there is right only when it is plain ASCII.</summary>
    internal sealed record XmlSymbol(string Type, string? Orientation, int Length, byte[] XmlBytes)
    {
        public bool IsAscii => XmlBytes.Length == Length && Array.TrueForAll(XmlBytes, b => b < 0x80);
    }
}
