using Microsoft.Extensions.Hosting;

namespace Mmcp.Gateway.Security;

/// <summary>
/// At startup, in the background, fetches the OAuth issuer's metadata and keys once (<see cref="OAuthResourceServer.CheckIssuerAsync"/>),
/// so that an issuer whose metadata names another issuer, or that cannot be reached, shows in the log when the gateway
/// starts rather than at the first refused token.
/// </summary>
internal sealed class OAuthIssuerCheck(OAuthResourceServer oauth) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        oauth.Enabled ? oauth.CheckIssuerAsync(stoppingToken) : Task.CompletedTask;
}
