using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mmcp.Cli.Hosting;
using Mmcp.Cli.Serving;
using Spectre.Console;

namespace Mmcp.Cli.Inspect;

/// <summary><c>mmcp inspect SERVER</c>: a live view of one server's JSON-RPC traffic through the running gateway.</summary>
internal static class InspectCommand
{
    public static Command Create(GlobalOptions global)
    {
        var server = new Argument<string>("server") { Description = "The server id." };
        var url = new Option<string?>("--url") { Description = "The gateway's URL (default: the one 'mmcp serve' runs, from its runtime file).", HelpName = "URL" };
        var payloads = new Option<bool>("--payloads") { Description = "Print each message in full." };
        var count = new Option<int?>("--count") { Description = "Stop after this many messages.", HelpName = "N" };
        var command = new Command("inspect", "Watch one server's JSON-RPC traffic through the running gateway (requests, responses with timings, errors, notifications), live. Token: the gateway's own (runtime file) or MMCP_TOKEN with the 'inspect' scope.") { server, url, payloads, count };
        command.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RunAsync(context, parse.GetValue(server)!, parse.GetValue(url), parse.GetValue(payloads), parse.GetValue(count), token), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string serverId, string? url, bool payloads, int? count, CancellationToken cancellationToken)
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
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{url!.TrimEnd('/')}/inspect/{Uri.EscapeDataString(serverId)}");
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
                context.Error.MarkupLineInterpolated($"[grey]Watching {serverId} through {url} (Ctrl+C stops)…[/]");
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
            console.WriteLine(message.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }
}
