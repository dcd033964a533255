using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Mmcp.Cli.Application;
using Mmcp.Cli.Output;
using Mmcp.Cli.Serving;
using Shared.Cli;
using Spectre.Console;

namespace Mmcp.Cli.Inspect;

/// <summary><c>mmcp inspect SERVER</c>: a live view of one server's JSON-RPC traffic through the running gateway.</summary>
internal static class InspectCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Argument<string?>("server") { Description = "The server id (optional with --spans: every server).", Arity = ArgumentArity.ZeroOrOne };
        var url = new Option<string?>("--url") { Description = "The gateway's URL (default: the one 'mmcp serve' runs, from its runtime file).", HelpName = "URL" };
        var payloads = new Option<bool>("--payloads") { Description = "Print each message in full." };
        var count = new Option<int?>("--count") { Description = "Stop after this many messages (or spans).", HelpName = "N" }.ParsedAsNumber("a number of messages", 1);
        var spans = new Option<bool>("--spans") { Description = "Show the spans of recent calls instead (gateway, hub and MCP SDK; names, timings, status, conventions' tags), then live. Recording starts with the first watcher." };
        var command = new Command("inspect", "Watch one server's JSON-RPC traffic through the running gateway (requests, responses with timings, errors, notifications), live; or with --spans the spans of recent calls. Token: the gateway's own (runtime file) or MMCP_TOKEN with the 'inspect' scope.") { server, url, payloads, count, spans };
        command.Validators.Add(r =>
        {
            if (r.GetValue(server) is null && !r.GetValue(spans))
            {
                r.AddError("Name the server to watch (mmcp inspect SERVER), or pass --spans to see the spans of every server.");
            }
        });
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(server), parse.GetValue(url), parse.GetValue(payloads), parse.GetValue(count), parse.GetValue(spans), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string? serverId, string? url, bool payloads, int? count, bool spans, CancellationToken cancellationToken)
    {
        var secret = Environment.GetEnvironmentVariable("MMCP_TOKEN");
        if (url is null || secret is null)
        {
            var path = ServeCommand.RuntimeFilePath();
            if (!File.Exists(path))
            {
                return context.Fail("NotRunning", $"No running gateway found ({path} does not exist). Start one with 'mmcp serve', or pass --url and set MMCP_TOKEN to a token with the 'inspect' scope.", ExitCodes.ServerUnavailable);
            }

            var runtime = JsonNode.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
            url ??= runtime?["url"]?.GetValue<string>();
            secret ??= runtime?["inspectToken"]?.GetValue<string>();
        }

        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = Timeout.InfiniteTimeSpan };
        var route = spans
            ? "/inspect-spans" + (serverId is null ? string.Empty : "?server=" + Uri.EscapeDataString(serverId))
            : "/inspect/" + Uri.EscapeDataString(serverId!);
        using var request = new HttpRequestMessage(HttpMethod.Get, url!.TrimEnd('/') + route);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        request.Headers.Accept.ParseAdd("text/event-stream");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            return context.Fail("ConnectionFailed", $"Cannot reach the gateway at {url}: {ex.Message}", ExitCodes.ServerUnavailable);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var message = JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() ?? body;
                return context.Fail(response.StatusCode.ToString(), message, response.StatusCode == HttpStatusCode.NotFound ? ExitCodes.NotFound : ExitCodes.Error);
            }

            if (!context.Json)
            {
                context.Error.MarkupLineInterpolated($"[grey]Watching {(spans ? "the spans of " : string.Empty)}{serverId ?? "every server"} through {url} (Ctrl+C stops)…[/]");
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            var seen = 0;
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal) || JsonNode.Parse(line[6..]) is not JsonObject e || e["kind"] is null)
                {
                    continue;
                }

                if (context.Json)
                {
                    await Console.Out.WriteLineAsync(line[6..]).ConfigureAwait(false);
                }
                else if (spans)
                {
                    PrintSpan(context.Out, e);
                }
                else
                {
                    Print(context.Out, e, payloads);
                }

                if (count is { } max && ++seen >= max)
                {
                    break;
                }
            }
        }

        return ExitCodes.Ok;
    }

    /// <summary>One span per line: start, duration, name, status, the server and tool tags, and the trace and parent ids
    /// (so lines of one call can be grouped).</summary>
    internal static void PrintSpan(IAnsiConsole console, JsonObject e)
    {
        var at = DateTimeOffset.TryParse(e["start"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) : "?";
        var ms = e["seconds"] is { } s ? (s.GetValue<double>() * 1000).ToString("0.0##", CultureInfo.InvariantCulture) + " ms" : "?";
        var error = e["status"]?.GetValue<string>() == "error";
        var tags = e["tags"] as JsonObject;
        var server = tags?["mmcp.server"]?.GetValue<string>() is { } id ? $" [grey]{Markup.Escape(id)}[/]" : string.Empty;
        var type = tags?["error.type"]?.GetValue<string>() is { } et ? $" [red]{Markup.Escape(et)}[/]" : string.Empty;
        var trace = e["traceId"]?.GetValue<string>() is { Length: >= 8 } tr ? tr[..8] : "?";
        var parent = e["parentId"]?.GetValue<string>() is { Length: >= 8 } p ? " ← " + p[..8] : string.Empty;
        var source = e["source"]?.GetValue<string>() ?? string.Empty;
        console.MarkupLine($"[grey]{at}[/] {Markup.Escape(ms),12} [{(error ? "red" : "green")}]{Markup.Escape(e["name"]?.GetValue<string>() ?? "?")}[/]{server}{type} [grey]{Markup.Escape(source)} trace {trace} span {Markup.Escape(e["spanId"]?.GetValue<string>()?[..8] ?? "?")}{Markup.Escape(parent)}[/]");
    }

    private static void Print(IAnsiConsole console, JsonObject e, bool payloads)
    {
        var at = DateTimeOffset.TryParse(e["at"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) : "?";
        var arrow = e["direction"]?.GetValue<string>() == "to-server" ? "→" : "←";
        var kind = e["kind"]!.GetValue<string>();
        var id = e["id"]?.GetValue<string>() is { } i ? $" #{i}" : string.Empty;
        var method = e["method"]?.GetValue<string>() ?? string.Empty;
        var ms = e["ms"] is { } m ? $" {m.GetValue<double>().ToString("0.0##", CultureInfo.InvariantCulture)} ms" : string.Empty;
        var connection = e["connection"]?.GetValue<string>() is { } c && c != "shared" ? $" [grey]({c})[/]" : string.Empty;
        var colour = kind switch { "error" => "red", "response" => "green", "notification" => "blue", _ => "default" };
        var error = kind == "error" ? $" {e["code"]}: {e["error"]}" : string.Empty;
        console.MarkupLine($"[grey]{at}[/] {arrow} [{colour}]{kind}[/]{Markup.Escape(id)} {Markup.Escape(method)}{Markup.Escape(ms)}{Markup.Escape(error)}{connection}");
        if (payloads && e["message"] is { } message)
        {
            console.WriteLine(PrintableJson.Text(message));
        }
    }
}
