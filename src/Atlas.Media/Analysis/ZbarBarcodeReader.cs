using System.Text;
using System.Xml;
using System.Xml.Linq;
using Atlas.Media.Processes;

namespace Atlas.Media.Analysis;

/// <summary>QR codes and barcodes (EAN, UPC, Code 128/39, …) with zbar's <c>zbarimg --xml</c>; binary payloads arrive base64-encoded.</summary>
internal sealed class ZbarBarcodeReader : IBarcodeReader
{
    private const string Program = "zbarimg";
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
            _version = "zbar " + outcome.StandardOutput.Trim();
        }

        return _version;
    }

    public async Task<IReadOnlyList<DecodedCode>> DecodeAsync(string imagePath, CancellationToken cancellationToken = default)
    {
        // Exit code 4 means "no code found", which is a normal answer.
        var outcome = await _runner.RunAsync(
            new ToolInvocation(Program, ["--quiet", "--xml", imagePath]) { SuccessExitCodes = [0, 4] },
            cancellationToken).ConfigureAwait(false);
        return Parse(outcome.StandardOutput);
    }

    internal static IReadOnlyList<DecodedCode> Parse(string xml)
    {
        if (string.IsNullOrWhiteSpace(xml))
        {
            return [];
        }

        try
        {
            var doc = XDocument.Parse(xml);
            var result = new List<DecodedCode>();
            foreach (var symbol in doc.Descendants().Where(e => e.Name.LocalName == "symbol"))
            {
                var data = symbol.Elements().FirstOrDefault(e => e.Name.LocalName == "data");
                if (data is null)
                {
                    continue;
                }

                var text = data.Value;
                if ((string?)data.Attribute("format") == "base64")
                {
                    var bytes = Convert.FromBase64String(text);
                    text = Encoding.UTF8.GetString(bytes);
                }

                result.Add(new DecodedCode { Symbology = (string?)symbol.Attribute("type") ?? "unknown", Text = text });
            }

            return result;
        }
        catch (XmlException ex)
        {
            throw new MediaException(MediaErrorCode.ToolFailed, "zbarimg returned unreadable output.", ex);
        }
    }
}
