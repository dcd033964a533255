using System.Text;
using System.Text.Json;
using Atlas.Client.Protocol;

namespace Atlas.Connect;

/// <summary>Prints the events of one answer as they arrive: text on the terminal, or one JSON line per event.</summary>
internal sealed class ChatRenderer
{
    private readonly TextWriter _out;
    private readonly TextWriter _notes;
    private readonly bool _json;
    private readonly StringBuilder _printed = new();

    /// <param name="output">Where the answer goes.</param>
    /// <param name="notes">Where tool activity and remarks go (stderr for scripts, the terminal when interactive).</param>
    /// <param name="json">Print JSON lines instead of text.</param>
    public ChatRenderer(TextWriter output, TextWriter notes, bool json)
    {
        _out = output;
        _notes = notes;
        _json = json;
    }

    public string? MessageId { get; private set; }

    public string? ConversationId { get; private set; }

    /// <summary>The terminal event, once it arrived.</summary>
    public ChatEvent? Final { get; private set; }

    public void Render(ChatEvent e)
    {
        MessageId ??= e.MessageId is { Length: > 0 } id ? id : null;
        ConversationId = e.ConversationId ?? ConversationId;
        if (ChatEventKinds.IsTerminal(e.Kind, e.Status))
        {
            Final = e;
        }

        if (_json)
        {
            _out.WriteLine(JsonSerializer.Serialize(e, AtlasJsonContext.Default.ChatEvent));
            return;
        }

        switch (e.Kind)
        {
            case ChatEventKinds.Delta:
                Write(e.Delta);
                break;
            case ChatEventKinds.ToolCall when e.ToolCall is { } call:
                Note($"[tool] {call.Name}({(call.Arguments is { } a ? a.GetRawText() : "")})");
                break;
            case ChatEventKinds.ToolResult when e.ToolResult is { } result:
                Note(result.Ok
                    ? $"[tool] {result.Name}: {Shorten(result.Content, 200)}"
                    : $"[tool] {result.Name} failed: {ConnectErrors.Format(result.Error?.Code ?? ErrorCodes.ToolFailed, result.Error?.Message)}");
                break;
            case ChatEventKinds.Snapshot:
                // Everything so far, after a resume whose events were no longer buffered: print what is missing.
                var content = e.Content ?? "";
                var printed = _printed.ToString();
                if (content.StartsWith(printed, StringComparison.Ordinal))
                {
                    Write(content[printed.Length..]);
                }
                else
                {
                    EndLine();
                    Write(content);
                }

                Finish(e.Status == ChatStatus.Streaming ? null : e);
                break;
            case ChatEventKinds.Done:
            case ChatEventKinds.Error:
            case ChatEventKinds.Cancelled:
                Finish(e);
                break;
        }
    }

    private void Finish(ChatEvent? e)
    {
        if (e is null)
        {
            return;
        }

        EndLine();
        if (e.Kind == ChatEventKinds.Cancelled || e.Status == ChatStatus.Cancelled)
        {
            Note("(cancelled)");
        }
        else if (e.Error is { } error)
        {
            Note("error: " + ConnectErrors.Format(error.Code, error.Message));
        }

        if (e.Notice is { } notice)
        {
            Note("note: " + ConnectErrors.Format(notice.Code, notice.Message));
        }
    }

    private void Write(string? text)
    {
        var clean = TerminalText.Clean(text);
        _printed.Append(clean);
        _out.Write(clean);
    }

    private void EndLine()
    {
        if (_printed.Length > 0 && _printed[^1] != '\n')
        {
            _out.WriteLine();
            _printed.Append('\n');
        }
    }

    private void Note(string text)
    {
        EndLine();
        _notes.WriteLine(TerminalText.Clean(text));
    }

    private static string Shorten(string? text, int max)
    {
        var oneLine = (text ?? "").Replace('\n', ' ');
        return oneLine.Length <= max ? oneLine : oneLine[..max] + "…";
    }
}
