using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Mmcp.Client;

/// <summary>Turns MCP tool results into what people and language models read.</summary>
public static class HubToolResults
{
    /// <summary>Returns the text blocks of a result joined by new lines (other blocks are skipped).</summary>
    /// <param name="result">The tool result.</param>
    /// <returns>The text; empty when the result has no text block.</returns>
    public static string GetText(CallToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return string.Join('\n', result.Content.OfType<TextContentBlock>().Select(t => t.Text));
    }

    /// <summary>
    /// Flattens a result for a function-calling model: plain text when every block is text (prefixed with
    /// <c>Error: </c> when the tool reported an error), the structured content as JSON when there is some, otherwise
    /// the blocks as <c>Microsoft.Extensions.AI</c> contents (images, audio, resources).
    /// </summary>
    /// <param name="result">The tool result.</param>
    /// <returns>A <see cref="string"/>, a <see cref="System.Text.Json.JsonElement"/> or a list of <c>AIContent</c>.</returns>
    /// <remarks>Without this, chat adapters serialize a single <c>TextContent</c> as <c>{"$type":"text",…}</c> and the model reads JSON instead of the text.</remarks>
    public static object ToFunctionResult(CallToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var isError = result.IsError == true;
        if (!isError && result.StructuredContent is { } structured)
        {
            return structured;
        }

        if (result.Content.All(c => c is TextContentBlock))
        {
            var text = GetText(result);
            return isError ? $"Error: {text}" : text;
        }

        return result.Content.ToAIContents();
    }
}
