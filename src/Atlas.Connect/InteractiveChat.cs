using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Atlas.Client;
using Atlas.Client.Chat;
using Atlas.Client.Connection;
using Atlas.Client.Media;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;

namespace Atlas.Connect;

/// <summary>The terminal chat: lines are messages or slash commands; answers stream as they arrive; Ctrl+C cancels the
/// answer, twice quits; offline, messages wait in the outbox and go out when the desktop is back.</summary>
internal sealed class InteractiveChat : IDisposable
{
    private readonly ConnectSession _session;
    private readonly ConnectArguments _args;
    private readonly TextWriter _out = Console.Out;
    private readonly SemaphoreSlim _chatLock = new(1, 1);
    private readonly Channel<bool> _flushSignal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CtrlC _ctrlC = new();
    private string? _conversationId;
    private string? _model;
    private bool _queuedNewConversation;
    private List<ConversationInfo> _lastList = [];
    private JsonElement? _lastStatus;
    private int _exitCode = ExitCodes.Ok;

    public InteractiveChat(ConnectSession session, ConnectArguments args)
    {
        _session = session;
        _args = args;
        _conversationId = args.Conversation;
        _model = args.Model;
    }

    private static bool Prompting => !Console.IsInputRedirected;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var quit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ctrlC.Token);
        var token = quit.Token;
        var name = TerminalText.Clean(_session.Credentials.DesktopName);
        if (await _session.TryConnectAsync(OnStateChanged, token).ConfigureAwait(false))
        {
            await _out.WriteLineAsync($"Connected to '{name}' as {_session.Credentials.DeviceId}. /help lists the commands.").ConfigureAwait(false);
            OnConnected();
        }
        else
        {
            await _out.WriteLineAsync($"'{name}' is unreachable; working offline (messages wait in the outbox, /list shows cached conversations). "
                + "Retrying in the background…").ConfigureAwait(false);
            _ = ConnectInBackgroundAsync(token);
        }

        var flusher = FlushLoopAsync(token);
        var lines = ReadLines();
        try
        {
            while (!token.IsCancellationRequested)
            {
                if (Prompting)
                {
                    await _out.WriteAsync(_session.Online ? "> " : "(offline) > ").ConfigureAwait(false);
                }

                string? line;
                try
                {
                    line = await lines.ReadAsync(token).ConfigureAwait(false);
                }
                catch (ChannelClosedException)
                {
                    // End of input. A Ctrl+C interrupts the blocking read of a redirected stdin, which then reads as end
                    // of input before the signal's handler has run: give it a moment so the exit code says "interrupted".
                    await Task.WhenAny(Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None),
                        Task.Delay(Timeout.Infinite, _ctrlC.Token)).ConfigureAwait(false);
                    break;
                }

                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                if (!await HandleAsync(line.Trim(), token).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Ctrl+C (twice while an answer streams), or the connection closed for good (revoked).
            if (_exitCode == ExitCodes.Ok && CtrlC.Pressed)
            {
                _exitCode = ExitCodes.Interrupted;
            }
        }

        if (_exitCode == ExitCodes.Ok && _ctrlC.Token.IsCancellationRequested)
        {
            _exitCode = ExitCodes.Interrupted;
        }

        _flushSignal.Writer.TryComplete();
        try
        {
            await flusher.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Quitting.
        }

        return _exitCode;
    }

    private static ChannelReader<string> ReadLines()
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
        _ = Task.Run(async () =>
        {
            // Console input cannot be cancelled; this thread ends with the process.
            while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                await channel.Writer.WriteAsync(line).ConfigureAwait(false);
            }

            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    private async Task<bool> HandleAsync(string line, CancellationToken cancellationToken)
    {
        if (!line.StartsWith('/'))
        {
            await SendAsync(line, cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (SlashCommands.Parse(line, out _) is not { } command)
        {
            await _out.WriteLineAsync($"Unknown command or wrong arguments: {TerminalText.Clean(line)}. /help lists the commands.").ConfigureAwait(false);
            return true;
        }

        try
        {
            switch (command.Name)
            {
                case "/quit":
                    return false;
                case "/help":
                    await _out.WriteLineAsync(SlashCommands.Help).ConfigureAwait(false);
                    break;
                case "/new":
                    _conversationId = null;
                    _queuedNewConversation = false;
                    await _out.WriteLineAsync("New conversation: your next message starts it.").ConfigureAwait(false);
                    break;
                case "/list":
                    await ListAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case "/open":
                    await OpenAsync(command.First!, cancellationToken).ConfigureAwait(false);
                    break;
                case "/model":
                    _model = command.First is null ? _model : command.First is "default" ? null : command.First;
                    await _out.WriteLineAsync($"Model: {_model ?? "the desktop's default"}.").ConfigureAwait(false);
                    break;
                case "/models":
                    await ModelsAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case "/files":
                    await FilesAsync(command.First ?? "", cancellationToken).ConfigureAwait(false);
                    break;
                case "/get":
                    await GetAsync(command.First!, command.Second, cancellationToken).ConfigureAwait(false);
                    break;
                case "/put":
                    await PutAsync(command.First!, command.Second, cancellationToken).ConfigureAwait(false);
                    break;
                case "/ocr":
                    await MediaAsync("ocr", command.First!, cancellationToken).ConfigureAwait(false);
                    break;
                case "/media":
                    await MediaAsync(command.First!.ToLowerInvariant(), command.Second!, cancellationToken).ConfigureAwait(false);
                    break;
                case "/status":
                    await StatusAsync(cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && ConnectErrors.Describe(e, _session.Credentials.BaseUri,
            _session.Credentials.DesktopName) is { } failure)
        {
            await _out.WriteLineAsync("error: " + failure.Message).ConfigureAwait(false);
            Fatal(failure.ExitCode);
        }
        catch (CliException e)
        {
            await _out.WriteLineAsync(e.Message).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await _out.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
        }
        catch (UnauthorizedAccessException e)
        {
            await _out.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
        }

        return true;
    }

    private async Task SendAsync(string text, CancellationToken cancellationToken)
    {
        var message = new ChatMessageRequest { Text = text, ConversationId = _conversationId, Model = _model };
        await _chatLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_session.Online)
            {
                await _session.Outbox.EnqueueAsync(message, continuesPrevious: _queuedNewConversation, cancellationToken).ConfigureAwait(false);
                _queuedNewConversation = _conversationId is null;
                await _out.WriteLineAsync("(offline: the message waits in the outbox and is sent when the desktop is back)").ConfigureAwait(false);
                return;
            }

            var renderer = new ChatRenderer(_out, _out, json: false);
            var cancelled = 0;
            void Cancel()
            {
                if (Interlocked.Exchange(ref cancelled, 1) == 0 && renderer.MessageId is { } id)
                {
                    _out.WriteLine();
                    _out.WriteLine("(cancelling — Ctrl+C again to quit)");
                    _ = CancelQuietlyAsync(id);
                }
            }

            using (_ctrlC.OnFirst(Cancel))
            {
                await foreach (var e in _session.Chat!.SendAsync(message, AtlasChat.NewRequestId(), cancellationToken).ConfigureAwait(false))
                {
                    renderer.Render(e);
                    if (Volatile.Read(ref cancelled) == 1 && e.Kind == ChatEventKinds.Start)
                    {
                        _ = CancelQuietlyAsync(e.MessageId); // Ctrl+C came before the first event
                    }
                }
            }

            _conversationId = renderer.ConversationId ?? _conversationId;
            _ = RefreshCacheAsync();
        }
        catch (AtlasException e) when (e.Code is not ErrorCodes.Revoked)
        {
            await _out.WriteLineAsync("error: " + ConnectErrors.Format(e.Code, e.Message)).ConfigureAwait(false);
        }
        finally
        {
            _chatLock.Release();
        }
    }

    private async Task CancelQuietlyAsync(string messageId)
    {
        try
        {
            await _session.Chat!.CancelAsync(messageId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (AtlasException e)
        {
            await _out.WriteLineAsync("could not cancel: " + ConnectErrors.Format(e.Code, e.Message)).ConfigureAwait(false);
        }
    }

    private async Task ListAsync(CancellationToken cancellationToken)
    {
        var (list, cached) = await _session.ListConversationsAsync(cancellationToken).ConfigureAwait(false);
        _lastList = [.. list];
        if (list.Count == 0)
        {
            await _out.WriteLineAsync(cached ? "No cached conversations." : "No conversations yet.").ConfigureAwait(false);
            return;
        }

        if (cached)
        {
            await _out.WriteLineAsync("(offline: the list as of the last connection)").ConfigureAwait(false);
        }

        for (var i = 0; i < list.Count; i++)
        {
            var c = list[i];
            var mark = c.Id == _conversationId ? "*" : " ";
            await _out.WriteLineAsync(string.Create(CultureInfo.CurrentCulture,
                $"{mark}{i + 1,3}. {TerminalText.Clean(c.Title)}  ({c.MessageCount} messages, {c.UpdatedAt.ToLocalTime():g})  {c.Id}")).ConfigureAwait(false);
        }
    }

    private async Task OpenAsync(string which, CancellationToken cancellationToken)
    {
        var id = int.TryParse(which, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? (n >= 1 && n <= _lastList.Count ? _lastList[n - 1].Id : null)
            : which;
        if (id is null)
        {
            await _out.WriteLineAsync($"No conversation {which} in the last /list; run /list first.").ConfigureAwait(false);
            return;
        }

        var (loaded, cached) = await _session.LoadConversationAsync(id, cancellationToken).ConfigureAwait(false);
        _conversationId = id;
        _queuedNewConversation = false;
        if (loaded is null)
        {
            await _out.WriteLineAsync($"Continuing {id} (not in the offline cache, so its messages cannot be shown).").ConfigureAwait(false);
            return;
        }

        await _out.WriteLineAsync($"Continuing '{TerminalText.Clean(loaded.Conversation?.Title)}'{(cached ? " (cached)" : "")}:").ConfigureAwait(false);
        foreach (var m in (loaded.Messages ?? []).TakeLast(6))
        {
            await _out.WriteLineAsync($"{(m.Role == "user" ? "you" : "atlas")}: {TerminalText.Clean(m.Content)}"
                + (m.Status is ChatStatus.Done or ChatStatus.Streaming ? "" : $" [{m.Status}]")).ConfigureAwait(false);
        }
    }

    private async Task ModelsAsync(CancellationToken cancellationToken)
    {
        RequireOnline();
        var models = await _session.Client.GetModelsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var m in models.Models)
        {
            var flags = string.Join(", ", new[] { m.Id == models.DefaultModel ? "default" : null, m.Vision == true ? "vision" : null,
                m.Tools == true ? "tools" : null }.OfType<string>());
            await _out.WriteLineAsync($"{(m.Id == _model ? ">" : " ")} {TerminalText.Clean(m.Id),-40} {TerminalText.Clean(m.Name)}"
                + (flags.Length > 0 ? $"  [{flags}]" : "")).ConfigureAwait(false);
        }
    }

    private async Task FilesAsync(string path, CancellationToken cancellationToken)
    {
        RequireOnline();
        var listing = await _session.Files.ListAsync(path, cancellationToken).ConfigureAwait(false);
        if (listing.Entries.Count == 0)
        {
            await _out.WriteLineAsync($"/{TerminalText.Clean(listing.Path)} is empty.").ConfigureAwait(false);
            return;
        }

        foreach (var entry in listing.Entries.OrderBy(e => e.Kind != "directory").ThenBy(e => e.Name, StringComparer.Ordinal))
        {
            var size = entry.Kind == "directory" ? "-" : FormatSize(entry.Size);
            await _out.WriteLineAsync(string.Create(CultureInfo.CurrentCulture,
                $"{size,10}  {entry.Modified.ToLocalTime():g}  {TerminalText.Clean(entry.Path)}{(entry.Kind == "directory" ? "/" : "")}")).ConfigureAwait(false);
        }
    }

    private async Task GetAsync(string path, string? local, CancellationToken cancellationToken)
    {
        RequireOnline();
        var target = local ?? ".";
        if (Directory.Exists(target))
        {
            target = Path.Combine(target, Path.GetFileName(path.TrimEnd('/')));
        }

        target = Path.GetFullPath(target);
        if (File.Exists(target) || Directory.Exists(target))
        {
            await _out.WriteLineAsync($"{target} already exists here; give another local name (/get {path} NEWNAME).").ConfigureAwait(false);
            return;
        }

        if (Path.GetDirectoryName(target) is { } folder && !Directory.Exists(folder))
        {
            await _out.WriteLineAsync($"The folder {folder} does not exist here; create it first or give another local path (/get {path} PATH).").ConfigureAwait(false);
            return;
        }

        var temp = target + ".part-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            long bytes;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                bytes = await _session.Files.DownloadAsync(path, file, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, target, overwrite: false);
            await _out.WriteLineAsync($"Saved {TerminalText.Clean(path)} to {target} ({FormatSize(bytes)}).").ConfigureAwait(false);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private async Task PutAsync(string local, string? path, CancellationToken cancellationToken)
    {
        RequireOnline();
        if (!File.Exists(local))
        {
            await _out.WriteLineAsync($"{local}: no such file here.").ConfigureAwait(false);
            return;
        }

        path ??= Path.GetFileName(local);
        if (path.EndsWith('/'))
        {
            path += Path.GetFileName(local);
        }

        await using var file = File.OpenRead(local);
        var entry = await _session.Files.UploadAsync(path, file, overwrite: false, cancellationToken).ConfigureAwait(false);
        await _out.WriteLineAsync($"Uploaded {local} to {TerminalText.Clean(entry.Path)} ({FormatSize(entry.Size)}).").ConfigureAwait(false);
    }

    private async Task MediaAsync(string task, string path, CancellationToken cancellationToken)
    {
        RequireOnline();
        if (!AtlasMedia.Tasks.Contains(task))
        {
            await _out.WriteLineAsync($"Unknown media task '{TerminalText.Clean(task)}'; one of {string.Join(", ", AtlasMedia.Tasks)}.").ConfigureAwait(false);
            return;
        }

        await _out.WriteLineAsync($"Running {task} on {TerminalText.Clean(path)}…").ConfigureAwait(false);
        var answer = await _session.Media.ProcessAsync(task, path, cancellationToken: cancellationToken).ConfigureAwait(false);
        var result = answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("result", out var r) ? r : answer;
        if (TextOf(result) is { } text)
        {
            await _out.WriteLineAsync(TerminalText.Clean(text)).ConfigureAwait(false);
        }
        else
        {
            await _out.WriteLineAsync(TerminalText.Clean(JsonSerializer.Serialize(result, ConnectIndentedJsonContext.Default.JsonElement))).ConfigureAwait(false);
        }

        if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("files", out var files) && files.ValueKind == JsonValueKind.Array)
        {
            foreach (var file in files.EnumerateArray())
            {
                await _out.WriteLineAsync("  file: " + TerminalText.Clean(file.GetString())).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The main text of a media result (OCR text, transcript…): a <c>text</c> property of the result or of one
    /// of its parts.</summary>
    private static string? TextOf(JsonElement result)
    {
        if (result.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (result.TryGetProperty("text", out var direct) && direct.ValueKind == JsonValueKind.String)
        {
            return direct.GetString();
        }

        foreach (var part in result.EnumerateObject())
        {
            if (part.Value.ValueKind == JsonValueKind.Object && part.Value.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                return text.GetString();
            }
        }

        return null;
    }

    private async Task StatusAsync(CancellationToken cancellationToken)
    {
        var credentials = _session.Credentials;
        var connection = _session.Connection;
        var state = connection?.State switch
        {
            AtlasConnectionState.Connected => "online",
            AtlasConnectionState.Reconnecting => "reconnecting…",
            AtlasConnectionState.Closed => "closed",
            _ => "offline",
        };
        var outbox = (await _session.Outbox.PendingAsync(cancellationToken).ConfigureAwait(false)).Count;
        var builder = new StringBuilder();
        builder.AppendLine(CultureInfo.InvariantCulture, $"Desktop:      '{TerminalText.Clean(credentials.DesktopName)}' at {credentials.BaseUri} ({state})");
        builder.AppendLine(CultureInfo.InvariantCulture, $"Fingerprint:  {SpkiPin.ToDisplay(credentials.Fingerprint)} (pinned)");
        builder.AppendLine(CultureInfo.InvariantCulture, $"Device:       {credentials.DeviceId}");
        if (connection is not null)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"Permissions:  {string.Join(' ', connection.Permissions)}");
            builder.AppendLine(CultureInfo.InvariantCulture, $"Reconnects:   {connection.Reconnects}");
        }

        if (_lastStatus is { ValueKind: JsonValueKind.Object } status && status.TryGetProperty("llm", out var llm)
            && llm.ValueKind == JsonValueKind.Object)
        {
            var configured = llm.TryGetProperty("configured", out var c) && c.ValueKind == JsonValueKind.True;
            var model = llm.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? " (" + m.GetString() + ")" : "";
            builder.AppendLine(CultureInfo.InvariantCulture, $"LLM:          {(configured ? "configured" + TerminalText.Clean(model) : "not configured on the desktop")}");
        }

        builder.AppendLine(CultureInfo.InvariantCulture, $"Conversation: {_conversationId ?? "(new)"}");
        builder.AppendLine(CultureInfo.InvariantCulture, $"Model:        {_model ?? "the desktop's default"}");
        builder.Append(CultureInfo.InvariantCulture, $"Outbox:       {outbox} waiting");
        await _out.WriteLineAsync(builder.ToString()).ConfigureAwait(false);
    }

    private void RequireOnline()
    {
        if (!_session.Online)
        {
            throw new CliException(ExitCodes.Unreachable, "offline: this needs the desktop; it is retried in the background.");
        }
    }

    private void OnStateChanged(AtlasConnectionState state)
    {
        switch (state)
        {
            case AtlasConnectionState.Reconnecting:
                _out.WriteLine();
                _out.WriteLine("reconnecting…");
                break;
            case AtlasConnectionState.Connected:
                _out.WriteLine("reconnected.");
                _flushSignal.Writer.TryWrite(true);
                break;
#pragma warning disable RS0030 // read only once complete (IsCompletedSuccessfully): does not block
            case AtlasConnectionState.Closed when _session.Connection?.Closed is { IsCompletedSuccessfully: true } closed && closed.Result == ErrorCodes.Revoked:
#pragma warning restore RS0030
                _out.WriteLine($"error: this device was revoked on '{TerminalText.Clean(_session.Credentials.DesktopName)}'; pair again with a new link.");
                _ = new Client.Credentials.FileCredentialStore(_session.Profile.CredentialsPath).DeleteAsync().AsTask();
                Fatal(ExitCodes.Revoked);
                break;
        }
    }

    private void OnConnected()
    {
        _flushSignal.Writer.TryWrite(true);
        _ = WatchEventsAsync(_session.Connection!);
        _ = RefreshCacheAsync();
    }

    /// <summary>Keeps the offline list of conversations current even when the user never runs /list.</summary>
    private async Task RefreshCacheAsync()
    {
        try
        {
            await _session.ListConversationsAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (AtlasException)
        {
            // Not allowed to chat, or the connection went away: the cache stays as it was.
        }
    }

    private async Task WatchEventsAsync(AtlasConnection connection)
    {
        await foreach (var frame in connection.Events.ReadAllAsync().ConfigureAwait(false))
        {
            if (frame.Type == MessageTypes.StatusUpdate && frame.Data is { } data)
            {
                _lastStatus = data;
            }
        }
    }

    private async Task ConnectInBackgroundAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _session.ConnectWhenReachableAsync(OnStateChanged, cancellationToken).ConfigureAwait(false);
            await _out.WriteLineAsync($"Connected to '{TerminalText.Clean(_session.Credentials.DesktopName)}'.").ConfigureAwait(false);
            OnConnected();
        }
        catch (OperationCanceledException)
        {
            // Quitting.
        }
        catch (Exception e) when (ConnectErrors.Describe(e, _session.Credentials.BaseUri, _session.Credentials.DesktopName) is { } failure)
        {
            await _out.WriteLineAsync("error: " + failure.Message).ConfigureAwait(false);
            Fatal(failure.ExitCode);
        }
    }

    private async Task FlushLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var _ in _flushSignal.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!_session.Online || (await _session.Outbox.PendingAsync(cancellationToken).ConfigureAwait(false)).Count == 0)
            {
                continue;
            }

            await _chatLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var conversation = await ConnectCommand.FlushOutboxAsync(_session, _out, _out, json: false, cancellationToken).ConfigureAwait(false);
                if (_queuedNewConversation || _conversationId is null)
                {
                    _conversationId = conversation ?? _conversationId;
                    _queuedNewConversation = false;
                }
            }
            catch (AtlasException e)
            {
                await _out.WriteLineAsync("The outbox could not be sent yet: " + ConnectErrors.Format(e.Code, e.Message) + ".").ConfigureAwait(false);
                if (ConnectErrors.ExitCodeOf(e.Code) == ExitCodes.Revoked)
                {
                    Fatal(ExitCodes.Revoked);
                }
            }
            finally
            {
                _chatLock.Release();
            }
        }
    }

    private void Fatal(int exitCode)
    {
        if (exitCode is ExitCodes.Revoked or ExitCodes.CertificateMismatch)
        {
            _exitCode = exitCode;
            _ctrlC.Quit();
        }
    }

    public void Dispose()
    {
        _ctrlC.Dispose();
        _chatLock.Dispose();
    }

    private static string FormatSize(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
    };
}
