using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Mmcp.Cli.Application;
using Mmcp.Gateway.Security;
using Shared.Cli;
using Spectre.Console;

namespace Mmcp.Cli.Tokens;

/// <summary><c>mmcp token create|list|revoke</c>: the gateway's bearer tokens (stored hashed, file mode 0600).</summary>
internal static class TokenCommand
{
    public static Command Create(GlobalOptions global)
    {
        var file = new Option<string?>("--file") { Description = "The token store (default $XDG_CONFIG_HOME/mmcp/tokens.json).", HelpName = "PATH", Recursive = true };

        var scope = new Option<string[]>("--scope") { Description = $"A scope (repeatable): {string.Join(", ", GatewayScopes.Known)}.", Required = true, HelpName = "SCOPE" };
        var name = new Option<string>("--name") { Description = "A label for the token (shown in lists and the audit log).", DefaultValueFactory = _ => "token" };
        var days = new Option<double?>("--expires-in-days") { Description = "Days until the token stops working (default: never).", HelpName = "DAYS" }.ParsedAsNumber("a number of days");
        var create = new Command("create", "Create a token and print it once (it is stored only as a hash).") { scope, name, days };
        create.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => CreateTokenAsync(context, Store(parse.GetValue(file)), parse.GetValue(name)!, parse.GetValue(scope)!, parse.GetValue(days), token), ct));

        var list = new Command("list", "List the tokens (ids, names, scopes, dates; never the secrets).");
        list.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, _) => Task.FromResult(List(context, Store(parse.GetValue(file)))), ct));

        var id = new Argument<string>("id") { Description = "The token's id (or its name when unique)." };
        var revoke = new Command("revoke", "Revoke a token: requests carrying it are refused at once.") { id };
        revoke.SetAction((parse, ct) => CliContext.RunAsync(parse, global, (context, token) => RevokeAsync(context, Store(parse.GetValue(file)), parse.GetValue(id)!, token), ct));

        return new Command("token", "Manage the gateway's bearer tokens (needed for requests that arrive beyond loopback).") { file, create, list, revoke };
    }

    private static TokenStore Store(string? file) => new(file ?? TokenStore.DefaultPath());

    private static async Task<int> CreateTokenAsync(CliContext context, TokenStore store, string name, string[] scopes, double? days, CancellationToken cancellationToken)
    {
        if (days is <= 0 or > 3650)
        {
            return context.Fail("Usage", "--expires-in-days must be above 0 and at most 3650.", ExitCodes.Usage);
        }

        (GatewayToken Token, string Secret) created;
        try
        {
            created = await store.CreateAsync(name, [.. scopes.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))], days is { } d ? TimeSpan.FromDays(d) : null, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            return context.Fail("Usage", ex.Message.Split(" (Parameter", StringSplitOptions.None)[0], ExitCodes.Usage);
        }

        if (context.Json)
        {
            var node = ToJson(created.Token);
            node["token"] = created.Secret;
            CliContext.WriteJson(node);
        }
        else
        {
            context.Out.WriteLine(created.Secret);
            context.Error.MarkupLineInterpolated($"[grey]Token {created.Token.Id} ({created.Token.Name}) with {string.Join(", ", created.Token.Scopes)}. It is shown only now; send it as 'Authorization: Bearer <token>'.[/]");
        }

        return ExitCodes.Ok;
    }

    private static int List(CliContext context, TokenStore store)
    {
        var tokens = store.List();
        if (context.Json)
        {
            CliContext.WriteJson(new JsonObject { ["tokens"] = new JsonArray([.. tokens.Select(t => (JsonNode)ToJson(t))]) });
            return ExitCodes.Ok;
        }

        if (tokens.Count == 0)
        {
            context.Out.MarkupLine("No tokens. Create one with 'mmcp token create --scope tools:call'.");
            return ExitCodes.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("ID").AddColumn("NAME").AddColumn("SCOPES").AddColumn("CREATED").AddColumn("EXPIRES");
        foreach (var t in tokens)
        {
            table.AddRow(Markup.Escape(t.Id), Markup.Escape(t.Name), Markup.Escape(string.Join(" ", t.Scopes)), t.CreatedAt.ToString("u", CultureInfo.InvariantCulture), t.ExpiresAt?.ToString("u", CultureInfo.InvariantCulture) ?? "never");
        }

        context.Out.Write(table);
        return ExitCodes.Ok;
    }

    private static async Task<int> RevokeAsync(CliContext context, TokenStore store, string id, CancellationToken cancellationToken)
    {
        int removed;
        try
        {
            removed = await store.RevokeAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            return context.Fail("Usage", ex.Message.Split(" (Parameter", StringSplitOptions.None)[0], ExitCodes.Usage);
        }

        if (removed == 0)
        {
            return context.Fail("NotFound", $"No token has the id or name '{id}'. 'mmcp token list' shows them.", ExitCodes.NotFound);
        }

        if (context.Json)
        {
            CliContext.WriteJson(new JsonObject { ["revoked"] = removed });
        }
        else
        {
            context.Out.MarkupLineInterpolated($"Revoked {removed} token(s).");
        }

        return ExitCodes.Ok;
    }

    private static JsonObject ToJson(GatewayToken t) => new()
    {
        ["id"] = t.Id,
        ["name"] = t.Name,
        ["scopes"] = new JsonArray([.. t.Scopes.Select(s => (JsonNode)JsonValue.Create(s))]),
        ["createdAt"] = t.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        ["expiresAt"] = t.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture),
    };
}
