using System.Globalization;
using Mmcp.OAuthServer;

// Run alone: dotnet Mmcp.OAuthServer.dll [--port N] [--auto-approve] [--rfc8414-only] [--log]. Prints "issuer: URL" when it listens; Ctrl+C stops it.
var port = 0;
var autoApprove = false;
var log = false;
var rfc8414Only = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length:
            port = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--log":
            log = true;
            break;
        case "--auto-approve":
            autoApprove = true;
            break;
        case "--rfc8414-only":
            rfc8414Only = true;
            break;
        default:
            await Console.Error.WriteLineAsync($"unknown argument '{args[i]}'; use --port N, --auto-approve, --rfc8414-only and --log");
            return 2;
    }
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
await using var server = await OAuthTestServer.StartAsync(port, log ? b => b.AddConsole() : null);
server.AutoApprove = autoApprove;
server.Rfc8414Only = rfc8414Only;
Console.WriteLine($"issuer: {server.Issuer}");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

return 0;
