using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Mmcp.Cli.Output;
using Mmcp.Client;
using Mmcp.Core.Registry;
using Spectre.Console;

namespace Mmcp.Cli.Application;

/// <summary>One invocation: the parsed global options, the consoles, and the hub built from them.</summary>
internal sealed class CliContext : IAsyncDisposable
{
    private readonly ParseResult _parse;
    private readonly GlobalOptions _options;
    private ILoggerFactory? _loggerFactory;
    private MmcpHub? _hub;

    public CliContext(ParseResult parse, GlobalOptions options)
    {
        _parse = parse;
        _options = options;
        Json = parse.GetValue(options.Json);
        Out = CreateConsole(Console.Out);
        Error = CreateConsole(Console.Error);
    }

    public bool Json { get; }

    /// <summary>Gets standard output (tables and results).</summary>
    public IAnsiConsole Out { get; }

    /// <summary>Gets standard error (errors, warnings, hints).</summary>
    public IAnsiConsole Error { get; }

    public IReadOnlyList<string> RegistryDirectories => _parse.GetValue(_options.Registry) ?? [];

    public bool ImportClientConfigs => !_parse.GetValue(_options.NoImport);

    /// <summary>Runs a command body, mapping every failure to a message and an exit code in one place.</summary>
    public static async Task<int> RunAsync(ParseResult parse, GlobalOptions options, Func<CliContext, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        var context = new CliContext(parse, options);
        await using (context.ConfigureAwait(false))
        {
            try
            {
                return await body(context, cancellationToken).ConfigureAwait(false);
            }
            catch (HubException ex)
            {
                return context.Fail(ex);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                context.Error.MarkupLine("[yellow]Interrupted.[/]");
                return ExitCodes.Interrupted;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return context.Fail("Error", ex.Message, ExitCodes.Error);
            }
        }
    }

    public bool Verbose => _parse.GetValue(_options.Verbose);

    /// <summary>Applies the global options (registry, imports, call budget) to hub options.</summary>
    public void ConfigureHub(MmcpHubOptions options, string clientName, bool watchRegistry)
    {
        options.Registry = CreateRegistryOptions();
        options.WatchRegistry = watchRegistry;
        options.ClientName = clientName;

        // Paired Atlas desktops ('mmcp remote add'): pinned to their key, with the device's session.
        options.HttpClientFactory = (server, cancellationToken) => Remote.RemoteDesktops.CreateHttpClientAsync(MmcpEnvironment.Process, server, cancellationToken);
        if (_parse.GetValue(_options.Timeout) is { } seconds)
        {
            options.CallTimeout = TimeSpan.FromSeconds(seconds);
        }
    }

    /// <summary>Writes a JSON document (built as nodes) to standard output.</summary>
    public static void WriteJson(System.Text.Json.Nodes.JsonNode node)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, PrintableJson.Options))
        {
            node.WriteTo(writer);
        }

        stdout.Write("\n"u8);
    }

    public RegistryOptions CreateRegistryOptions() => new()
    {
        RegistryDirectories = RegistryDirectories.Count > 0 ? [.. RegistryDirectories.Select(d => Path.GetFullPath(d))] : null,
        ImportClientConfigs = ImportClientConfigs,
    };

    /// <summary>Gets or sets a change a command makes to the hub's options before the hub is created (on first use of <see cref="Hub"/>).</summary>
    public Action<MmcpHubOptions>? AdjustHub { get; set; }

    public MmcpHub Hub
    {
        get
        {
            if (_hub is not null)
            {
                return _hub;
            }

            var options = new MmcpHubOptions();
            ConfigureHub(options, "mmcp-cli", watchRegistry: false);
            AdjustHub?.Invoke(options);
            if (Verbose)
            {
                _loggerFactory = LoggerFactory.Create(b => b
                    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                    .SetMinimumLevel(LogLevel.Debug)
                    .AddFilter("ModelContextProtocol", LogLevel.Warning));
            }

            _hub = MmcpHub.Create(options, _loggerFactory);
            _hub.ServerRequests = GatewayRequests(CommandPath);
            return _hub;
        }
    }

    /// <summary>Gets the command being run as typed, for example <c>mmcp consent list</c>.</summary>
    private string CommandPath
    {
        get
        {
            var names = new List<string>();
            for (var command = _parse.CommandResult; command.Parent is System.CommandLine.Parsing.CommandResult parent; command = parent)
            {
                names.Insert(0, command.Command.Name);
            }

            return string.Join(' ', ["mmcp", .. names]);
        }
    }

    /// <summary>
    /// How every command's hub answers the requests servers send: with the gateway's capabilities. The gateway declares
    /// sampling, elicitation and roots (it routes them to its clients), and a server may offer some tools only to clients
    /// that do (server-everything's trigger-sampling-request), so a command that lists or calls must declare them too or
    /// it sees other tools than the gateway exposes. A command has no model and no user to ask: sampling and elicitation
    /// are refused at once with an error that says so; roots are none.
    /// </summary>
    private static HubServerRequests GatewayRequests(string command) => new()
    {
        Sampling = (_, _, _) => throw NotHere(command, "no model to answer sampling/createMessage"),
        Elicitation = (_, _, _) => throw NotHere(command, "no user to answer elicitation/create"),
        Roots = (_, _, _) => ValueTask.FromResult(new ModelContextProtocol.Protocol.ListRootsResult { Roots = [] }),
    };

    private static ModelContextProtocol.McpProtocolException NotHere(string command, string what) =>
        new($"'{command}' has {what}; the gateway ('mmcp serve') routes it to the client whose call asked.", ModelContextProtocol.McpErrorCode.MethodNotFound);

    /// <summary>Writes a server's result as the server wrote it (<see cref="ResultJson"/>), fields no MCP revision defines included.</summary>
    public static void WriteResult<T>(T result)
        where T : ModelContextProtocol.Protocol.Result
    {
        if (ResultJson.TryGet(result, out var json))
        {
            WriteJson(System.Text.Json.Nodes.JsonNode.Parse(json.Span)!);
        }
        else
        {
            WriteJson(result, ModelContextProtocol.McpJsonUtilities.GetTypeInfo<T>(ModelContextProtocol.McpJsonUtilities.DefaultOptions));
        }
    }

    public static void WriteJson<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, PrintableJson.Options))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        stdout.Write("\n"u8);
    }

    /// <summary>Reports a hub error (as JSON on standard output too, with --json) and returns its exit code.</summary>
    public int Fail(HubException ex)
    {
        var exitCode = ExitCodes.FromHubError(ex.Code);
        if (Json)
        {
            CliContext.WriteJson(new ErrorOutput(new ErrorDto(ex.Code.ToString(), ex.Message, exitCode, ex.ServerId, ex.Target, Dto.Failure(ex.Failure))), CliJsonContext.Default.ErrorOutput);
        }

        Error.MarkupLineInterpolated($"[red]{ex.Code}:[/] {ex.Message}");
        if (ex.Failure is { StandardErrorTail.Count: > 0 } failure)
        {
            Error.MarkupLine("[grey]Last lines the server wrote to standard error:[/]");
            foreach (var line in failure.StandardErrorTail.TakeLast(10))
            {
                Error.MarkupLineInterpolated($"[grey]  {line}[/]");
            }
        }

        return exitCode;
    }

    /// <summary>Reports an error that is not a hub error and returns <paramref name="exitCode"/>.</summary>
    public int Fail(string code, string message, int exitCode)
    {
        if (Json)
        {
            CliContext.WriteJson(new ErrorOutput(new ErrorDto(code, message, exitCode, null, null, null)), CliJsonContext.Default.ErrorOutput);
        }

        Error.MarkupLineInterpolated($"[red]{code}:[/] {message}");
        return exitCode;
    }

    public void Warn(string message) => Error.MarkupLineInterpolated($"[yellow]warning:[/] {message}");

    /// <summary>The servers whose live list is missing, with what failed and how to fix it (for <c>--json</c>'s <c>warnings</c>).</summary>
    public IReadOnlyList<WarningDto> Warnings(HubListing listing) =>
        [.. listing.Failures.Select(f => new WarningDto(f.ServerId, f.Failure!.Code.ToString(), f.Failure.Message, Fix(f.ServerId, f.Failure)))];

    /// <summary>
    /// Finishes a listing command: warns on standard error about the servers that failed, and returns the exit code —
    /// across servers the listing stands (unless <paramref name="strict"/>: then 8); when one server was asked for and
    /// it failed, that is the command's failure.
    /// </summary>
    public int FinishListing(HubListing listing, string? serverId, int itemCount, string noun, bool strict = false)
    {
        if (!Json && itemCount == 0 && listing.Failures.Count == 0)
        {
            Out.MarkupLineInterpolated($"No {noun}.");
        }

        foreach (var warning in Warnings(listing))
        {
            Error.MarkupLineInterpolated($"[yellow]warning:[/] {warning.Server}: [red]{warning.Code}:[/] {warning.Message}");
            Error.MarkupLineInterpolated($"[grey]  fix: {warning.Fix}[/]");
        }

        if (serverId is not null && listing.Failures.Count == 1 && itemCount == 0)
        {
            return ExitCodes.FromHubError(listing.Failures[0].Failure!.Code);
        }

        return strict && listing.Failures.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Ok;
    }

    public string Fix(string serverId, ServerFailure failure)
    {
        var where = _hub?.Registry.Current.Find(serverId)?.Provenance.ToString() ?? "its definition";
        return failure.Code switch
        {
            HubErrorCode.ConfigurationError => $"supply what the message names (see above), or edit the definition in {where}.",
            HubErrorCode.LaunchFailed => $"install the program or correct the command in {where}; 'mmcp servers --check' shows the full command.",
            HubErrorCode.ConnectionFailed => $"start the app or service, or correct the socket path or URL in {where}.",
            HubErrorCode.HandshakeTimeout or HubErrorCode.CallTimeout => $"try again (a first 'npx' download can be slow) or raise the budget with --timeout or 'timeouts' in {where}.",
            HubErrorCode.HandshakeFailed or HubErrorCode.ServerCrashed => $"run 'mmcp servers --check -v' to see the server's standard error; check its command and environment in {where}.",
            HubErrorCode.SignInRequired when failure.HttpStatusCode == 403 && Remote.RemoteDesktops.IsPaired(MmcpEnvironment.Process, serverId) =>
                $"give this device the 'tools' permission on the desktop (its admin page's Devices, or 'atlas devices permissions <device-id> --set tools'); 'mmcp remote list' shows the device id.",
            HubErrorCode.SignInRequired when Remote.RemoteDesktops.IsPaired(MmcpEnvironment.Process, serverId) => Remote.RemoteDesktops.PairAgainFix(serverId),
            HubErrorCode.SignInRequired when failure.HttpStatusCode is 401 or 403 => $"the server refused the credentials given in {where}: check the token and what it may do, or run 'mmcp auth login {serverId}' if the server uses a sign-in.",
            HubErrorCode.SignInRequired => $"run 'mmcp auth login {serverId}' (it opens your browser); 'mmcp auth status' shows the sign-ins.",
            _ => $"run 'mmcp servers --check' for details; the definition is in {where}.",
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_hub is not null)
        {
            await _hub.DisposeAsync().ConfigureAwait(false);
        }

        _loggerFactory?.Dispose();
    }

    private static IAnsiConsole CreateConsole(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });

        // Piped output gets no colours and is not wrapped, so long commands, URLs and messages stay on one line.
        if (writer == Console.Out ? Console.IsOutputRedirected : Console.IsErrorRedirected)
        {
            console.Profile.Width = 4096;
        }

        return console;
    }
}
