using Atlas.Connect;

namespace Atlas.Desktop.Tests.Connect;

/// <summary>The slash commands of <c>atlas connect</c>, parsed by System.CommandLine: a table of typed lines and what
/// they become.</summary>
public sealed class SlashCommandsTests
{
    /// <summary>Each command with the arguments it takes parses to its name and arguments (aliases and case resolved,
    /// double quotes grouping words).</summary>
    [Theory]
    [Trait("Issue13", "slash-commands")]
    [InlineData("/new", "/new", null, null)]
    [InlineData("/list", "/list", null, null)]
    [InlineData("/list all", "/list", null, null)]
    [InlineData("/LIST", "/list", null, null)]
    [InlineData("/open 3", "/open", "3", null)]
    [InlineData("/open cnv_01h", "/open", "cnv_01h", null)]
    [InlineData("/model", "/model", null, null)]
    [InlineData("/model default", "/model", "default", null)]
    [InlineData("/model openai/gpt-4o-mini", "/model", "openai/gpt-4o-mini", null)]
    [InlineData("/models", "/models", null, null)]
    [InlineData("/files", "/files", null, null)]
    [InlineData("/files docs/", "/files", "docs/", null)]
    [InlineData("/get notes.txt", "/get", "notes.txt", null)]
    [InlineData("/get \"my notes.txt\" here.txt", "/get", "my notes.txt", "here.txt")]
    [InlineData("/put ./a.png", "/put", "./a.png", null)]
    [InlineData("/put @a.png camera/", "/put", "@a.png", "camera/")]
    [InlineData("/ocr camera/receipt.jpg", "/ocr", "camera/receipt.jpg", null)]
    [InlineData("/media OCR a.jpg", "/media", "OCR", "a.jpg")]
    [InlineData("/status", "/status", null, null)]
    [InlineData("/help", "/help", null, null)]
    [InlineData("/quit", "/quit", null, null)]
    [InlineData("/exit", "/quit", null, null)]
    public void Parse_KnownCommand_NameAndArguments(string line, string name, string? first, string? second)
    {
        var command = SlashCommands.Parse(line, out var error);

        Assert.Null(error);
        Assert.Equal(new SlashCommand(name, first, second), command);
    }

    /// <summary>Unknown commands and wrong argument counts are refused with a reason; nothing runs.</summary>
    [Theory]
    [Trait("Issue13", "slash-commands")]
    [InlineData("/frobnicate")]
    [InlineData("/open")]
    [InlineData("/open 1 2")]
    [InlineData("/model a b")]
    [InlineData("/files a b")]
    [InlineData("/get")]
    [InlineData("/get a b c")]
    [InlineData("/put")]
    [InlineData("/ocr")]
    [InlineData("/media ocr")]
    [InlineData("/media ocr a b")]
    [InlineData("/")]
    public void Parse_UnknownOrWrongArguments_RefusedWithReason(string line)
    {
        var command = SlashCommands.Parse(line, out var error);

        Assert.Null(command);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    /// <summary>/help, made from the command definitions, reads as it always did: every command with its usage.</summary>
    [Fact]
    [Trait("Issue13", "slash-commands")]
    public void Help_FromDefinitions_ListsEveryCommandWithUsage()
    {
        const string Expected = """
            Type a message and press Enter; the answer streams in. Ctrl+C stops an answer; Ctrl+C twice (or /quit) exits.
              /new                  start a new conversation
              /list                 list conversations (the cached list when offline)
              /open N|ID            continue conversation N of /list (or by id) and show its last messages
              /model [NAME|default] show or set the model for your messages
              /models               list the desktop's models
              /files [PATH]         list your files on the desktop
              /get PATH [LOCAL]     download a file (LOCAL: a file or directory here; never overwrites)
              /put LOCAL [PATH]     upload a file (never overwrites on the desktop)
              /ocr PATH             read the text in an image in your files
              /media TASK PATH      run a media task: ocr, analyze, frames, transcribe, describe, context
              /status               connection, permissions, LLM, outbox
              /help                 this help
              /quit                 exit
            """;

        Assert.Equal(Expected.ReplaceLineEndings("\n"), SlashCommands.Help);
    }
}
