using System.CommandLine;
using System.Text.Json;
using Atlas.Client;
using Atlas.Client.Connection;
using Atlas.Client.Credentials;
using Atlas.Client.Pairing;
using Atlas.Client.Protocol;

namespace Atlas.Connect;

/// <summary>The options of one <c>atlas connect</c> run.</summary>
internal sealed record ConnectArguments(
    string? PairingUrl,
    string? Name,
    string? StateDir,
    string? Desktop,
    string? Message,
    string? Conversation,
    string? Model,
    bool Queue,
    bool Json);

/// <summary><c>atlas connect [pairing-url]</c>: pairs with a desktop from its QR link, then chats with it in the terminal
/// (or sends one message with <c>--message</c>), with files, media, reconnects and an offline outbox.</summary>
internal static class ConnectCommand
{
    public static Command Create(Option<bool> json)
    {
        var url = new Argument<string?>("pairing-url")
        {
            Arity = ArgumentArity.ZeroOrOne,
            Description = "The link the desktop's QR code holds ('atlas pair' prints it). Omit it to use the stored pairing.",
        };
        url.Validators.Add(result =>
        {
            // An option the parser does not know lands here as the link: say what it is.
            if (result.Tokens is [{ Value: ['-', ..] value }])
            {
                result.AddError($"Unknown option '{value}'. Run 'atlas connect --help' for the options.");
            }
        });
        var name = new Option<string?>("--name") { Description = "The name the desktop shows for this device (default: user@computer (terminal))" };
        var stateDir = new Option<string?>("--state-dir") { Description = "Where credentials, outbox and cache live (default $XDG_STATE_HOME/atlas-connect or ~/.local/state/atlas-connect)" };
        var desktop = new Option<string?>("--desktop") { Description = "Which paired desktop to use, by name, when there are several" };
        var message = new Option<string?>("--message", "-m") { Description = "Send this message, print the answer and exit (for scripts)" };
        var conversation = new Option<string?>("--conversation") { Description = "Continue this conversation (default: a new one)" };
        var model = new Option<string?>("--model") { Description = "The model for the message (default: the desktop's)" };
        var queue = new Option<bool>("--queue") { Description = "With --message: when the desktop is unreachable, keep the message in the outbox (exit 13); it is sent on the next connect" };
        var command = new Command("connect", "Chat with an Atlas desktop from this terminal: pair with its QR link, then type messages (answers stream in), "
            + "use /files, /get, /put, /ocr and more (/help). Keeps working offline: messages wait in an outbox.")
        {
            url, name, stateDir, desktop, message, conversation, model, queue,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(new ConnectArguments(
            parse.GetValue(url), parse.GetValue(name), parse.GetValue(stateDir), parse.GetValue(desktop), parse.GetValue(message),
            parse.GetValue(conversation), parse.GetValue(model), parse.GetValue(queue), parse.GetValue(json)), cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(ConnectArguments args, CancellationToken cancellationToken)
    {
        var profiles = new ConnectProfiles(ConnectProfiles.ResolveRoot(args.StateDir));
        var status = args.Json ? Console.Error : Console.Out;
        ConnectProfile? profile = null;
        try
        {
            profile = args.PairingUrl is not null
                ? await PairAsync(profiles, args, status, cancellationToken).ConfigureAwait(false)
                : await profiles.PickAsync(args.Desktop, cancellationToken).ConfigureAwait(false);
            if (args.PairingUrl is not null && args.Message is null && args.Json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new PairedOutput(profile.Credentials.DesktopName, profile.Credentials.DeviceId,
                    profile.Credentials.BaseUri.ToString(), profile.Directory), ConnectJsonContext.Default.PairedOutput));
                return ExitCodes.Ok;
            }

            await using var session = await ConnectSession.OpenAsync(profile, cancellationToken).ConfigureAwait(false);
            if (args.Message is not null)
            {
                return await SendOneAsync(session, args, cancellationToken).ConfigureAwait(false);
            }

            using var chat = new InteractiveChat(session, args);
            return await chat.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || CtrlC.Pressed)
        {
            await Console.Error.WriteLineAsync("atlas connect: interrupted.").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (Exception e)
        {
            var link = PairingLink.TryParse(args.PairingUrl, out var parsed, out _) ? parsed : null;
            var failure = e as CliException ?? ConnectErrors.Describe(e,
                profile?.Credentials.BaseUri ?? link?.BaseUri ?? new Uri("https://unknown/"),
                profile?.Credentials.DesktopName ?? link?.DesktopName ?? "the desktop");
            if (failure is null)
            {
                throw;
            }

            return await FailAsync(failure, e, profile, args.Json).ConfigureAwait(false);
        }
    }

    private static async Task<int> FailAsync(CliException failure, Exception cause, ConnectProfile? profile, bool json)
    {
        if (json)
        {
            var atlas = cause as AtlasException;
            var code = atlas?.Code ?? failure.ExitCode switch
            {
                ExitCodes.Unreachable => "unreachable",
                ExitCodes.CertificateMismatch => "certificate_mismatch",
                ExitCodes.NotFound => "not_paired",
                _ => "usage",
            };
            Console.WriteLine(JsonSerializer.Serialize(new ErrorResponse { Error = new AtlasError { Code = code, Message = atlas?.Message ?? failure.Message } },
                AtlasJsonContext.Default.ErrorResponse));
        }

        if (failure.ExitCode == ExitCodes.Revoked && profile is { Directory.Length: > 0 })
        {
            // The credential is dead on the desktop; keeping it would only make every later run fail the same way.
            await new FileCredentialStore(profile.CredentialsPath).DeleteAsync().ConfigureAwait(false);
        }

        await Console.Error.WriteLineAsync("atlas connect: " + failure.Message).ConfigureAwait(false);
        return failure.ExitCode;
    }

    private static async Task<ConnectProfile> PairAsync(ConnectProfiles profiles, ConnectArguments args, TextWriter status,
        CancellationToken cancellationToken)
    {
        if (!PairingLink.TryParse(args.PairingUrl, out var link, out var error))
        {
            throw new CliException(ExitCodes.Usage, $"the pairing link is not valid: {error} Copy the whole link that 'atlas pair' prints, "
                + "including the part after '#', and put it in quotes.");
        }

        var name = args.Name ?? DefaultDeviceName();
        if (name.Length is 0 or > 64 || name.Any(char.IsControl))
        {
            throw new CliException(ExitCodes.Usage, "--name must be 1 to 64 characters without control characters.");
        }

        await status.WriteLineAsync($"Pairing with '{TerminalText.Clean(link!.DesktopName)}' at {link.BaseUri} "
            + $"(certificate {SpkiPin.ToDisplay(link.Fingerprint)}, pinned from the link).").ConfigureAwait(false);
        var credentials = await AtlasClient.PairAsync(link, name, "cli",
            code => status.WriteLine($"Check that the desktop shows {code} for '{name}', then approve this device there "
                + "(admin UI, or 'atlas devices approve' on the desktop). Waiting…"),
            ConnectSession.ClientOptions(), cancellationToken).ConfigureAwait(false);
        var profile = profiles.For(credentials);
        await new FileCredentialStore(profile.CredentialsPath).SaveAsync(credentials, cancellationToken).ConfigureAwait(false);
        await status.WriteLineAsync($"Paired as {credentials.DeviceId} ('{name}'). The credential is in {profile.CredentialsPath} "
            + "(readable by you only); next time just run 'atlas connect'.").ConfigureAwait(false);
        return profile;
    }

    private static string DefaultDeviceName()
    {
        var name = $"{Environment.UserName}@{Environment.MachineName} (terminal)";
        return name.Length <= 64 ? name : name[..64];
    }

    /// <summary><c>--message</c>: flush the outbox, send, stream the answer, exit with a code that says how it ended.</summary>
    private static async Task<int> SendOneAsync(ConnectSession session, ConnectArguments args, CancellationToken cancellationToken)
    {
        var notes = Console.Error;
        var message = new ChatMessageRequest { Text = args.Message!, ConversationId = args.Conversation, Model = args.Model };
        if (message.Text.Length == 0)
        {
            throw new CliException(ExitCodes.Usage, "--message is empty.");
        }

        void OnState(AtlasConnectionState state)
        {
            if (state == AtlasConnectionState.Reconnecting)
            {
                notes.WriteLine("reconnecting…");
            }
        }

        if (!await session.TryConnectAsync(OnState, cancellationToken).ConfigureAwait(false))
        {
            if (!args.Queue)
            {
                throw ConnectErrors.Describe(new HttpRequestException("connection failed"), session.Credentials.BaseUri, session.Credentials.DesktopName)!;
            }

            var item = await session.Outbox.EnqueueAsync(message, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (args.Json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new QueuedOutput(item.RequestId, true), ConnectJsonContext.Default.QueuedOutput));
            }

            await notes.WriteLineAsync($"'{session.Credentials.DesktopName}' is unreachable; the message waits in the outbox "
                + $"({item.RequestId}) and is sent on the next 'atlas connect'.").ConfigureAwait(false);
            return ExitCodes.Queued;
        }

        using var interrupt = new CtrlC();
        await FlushOutboxAsync(session, Console.Out, notes, args.Json, interrupt.Token).ConfigureAwait(false);

        var renderer = new ChatRenderer(Console.Out, notes, args.Json);
        var requestId = Client.Chat.AtlasChat.NewRequestId();
        var cancelRequested = 0;
        using var registration = interrupt.OnFirst(() =>
        {
            Interlocked.Exchange(ref cancelRequested, 1);
            notes.WriteLine("(cancelling — Ctrl+C again to quit)");
            if (renderer.MessageId is { } id)
            {
                _ = session.Chat!.CancelAsync(id, CancellationToken.None);
            }
        });
        await foreach (var e in session.Chat!.SendAsync(message, requestId, interrupt.Token).ConfigureAwait(false))
        {
            renderer.Render(e);
            if (e.Kind == ChatEventKinds.Start && Volatile.Read(ref cancelRequested) == 1)
            {
                _ = session.Chat.CancelAsync(e.MessageId, CancellationToken.None); // Ctrl+C came before the first event
            }
        }

        return renderer.Final switch
        {
            { Kind: ChatEventKinds.Done } or { Kind: ChatEventKinds.Snapshot, Status: ChatStatus.Done } => ExitCodes.Ok,
            { Kind: ChatEventKinds.Cancelled } or { Status: ChatStatus.Cancelled } => ExitCodes.Interrupted,
            { Error: { } error } => ConnectErrors.ExitCodeOf(error.Code),
            _ => ExitCodes.ChatFailed,
        };
    }

    /// <summary>Sends what waits in the outbox, printing each answer.</summary>
    internal static async Task<string?> FlushOutboxAsync(ConnectSession session, TextWriter output, TextWriter notes, bool json,
        CancellationToken cancellationToken)
    {
        ChatRenderer? renderer = null;
        string? current = null;
        string? conversation = null;
        await foreach (var delivery in session.Outbox.FlushAsync(session.Chat!, cancellationToken).ConfigureAwait(false))
        {
            if (delivery.Item.RequestId != current)
            {
                current = delivery.Item.RequestId;
                renderer = new ChatRenderer(output, notes, json);
                if (!json)
                {
                    await notes.WriteLineAsync($"[sent from the outbox, queued {delivery.Item.QueuedAt.ToLocalTime():g}] "
                        + TerminalText.Clean(Shorten(delivery.Item.Message.Text))).ConfigureAwait(false);
                }
            }

            renderer!.Render(delivery.Event);
            conversation = renderer.ConversationId ?? conversation;
        }

        return conversation;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";
}

internal sealed record PairedOutput(string Desktop, string DeviceId, string Url, string StateDirectory);

internal sealed record QueuedOutput(string RequestId, bool Queued);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(PairedOutput))]
[System.Text.Json.Serialization.JsonSerializable(typeof(QueuedOutput))]
internal sealed partial class ConnectJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class ConnectIndentedJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
