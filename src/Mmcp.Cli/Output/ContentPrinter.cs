using System.Text.Json;
using ModelContextProtocol.Protocol;
using Spectre.Console;

namespace Mmcp.Cli.Output;

/// <summary>Prints MCP content for people: text as is, binary content as a one-line summary.</summary>
internal static class ContentPrinter
{
    public static void Print(IAnsiConsole console, IEnumerable<ContentBlock> content, JsonElement? structured)
    {
        var printed = false;
        foreach (var block in content)
        {
            printed = true;
            switch (block)
            {
                case TextContentBlock text:
                    console.Profile.Out.Writer.WriteLine(text.Text);
                    break;
                case ImageContentBlock image:
                    console.MarkupLineInterpolated($"[grey][[image {image.MimeType}, {image.DecodedData.Length} bytes]][/]");
                    break;
                case AudioContentBlock audio:
                    console.MarkupLineInterpolated($"[grey][[audio {audio.MimeType}, {audio.DecodedData.Length} bytes]][/]");
                    break;
                case ResourceLinkBlock link:
                    console.MarkupLineInterpolated($"[grey][[resource link {link.Uri}{(link.Name is null ? string.Empty : $" ({link.Name})")}]][/]");
                    break;
                case EmbeddedResourceBlock embedded:
                    PrintResource(console, embedded.Resource);
                    break;
                default:
                    console.MarkupLineInterpolated($"[grey][[{block.Type} content]][/]");
                    break;
            }
        }

        if (!printed && structured is { } json)
        {
            console.Profile.Out.Writer.WriteLine(PrintableJson.Text(json));
        }
    }

    public static void PrintResource(IAnsiConsole console, ResourceContents resource)
    {
        switch (resource)
        {
            case TextResourceContents text:
                console.Profile.Out.Writer.WriteLine(text.Text);
                break;
            case BlobResourceContents blob:
                console.MarkupLineInterpolated($"[grey][[{blob.MimeType ?? "binary"} {blob.Uri}, {blob.DecodedData.Length} bytes; use --out FILE to save it]][/]");
                break;
        }
    }
}
