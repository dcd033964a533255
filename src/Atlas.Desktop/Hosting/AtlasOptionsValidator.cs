using Atlas.Client.Protocol;
using Microsoft.Extensions.Options;
using Shared.Text;

namespace Atlas.Desktop.Hosting;

/// <summary>Checks the configuration at startup; every message names the setting and how to fix it.</summary>
internal sealed class AtlasOptionsValidator : IValidateOptions<AtlasOptions>
{
    public ValidateOptionsResult Validate(string? name, AtlasOptions options)
    {
        var errors = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            errors.Add($"Atlas:Port is {options.Port}; use a port between 1 and 65535, or 0 to pick a free one (--port).");
        }

        if (options.Port == 11434)
        {
            errors.Add("Atlas:Port is 11434, Ollama's port; pick another (the default is 47321).");
        }

        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Length > 64 || options.Name.Any(char.IsControl) || BidiControls.In(options.Name))
        {
            // Phones show it next to the fingerprint: a direction override could reverse that line.
            errors.Add("Atlas:Name must be 1 to 64 printable characters, none of them changing the text direction (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C).");
        }

        if (options.Pairing.Approval is not ("prompt" or "auto" or "Prompt" or "Auto"))
        {
            errors.Add($"Atlas:Pairing:Approval is '{options.Pairing.Approval}'; use 'prompt' (approve each device) or 'auto' (headless).");
        }

        Positive(errors, "Atlas:Pairing:TicketLifetime", options.Pairing.TicketLifetime, TimeSpan.FromHours(1));
        Positive(errors, "Atlas:Pairing:ApprovalTimeout", options.Pairing.ApprovalTimeout, TimeSpan.FromDays(1));
        Positive(errors, "Atlas:Pairing:FailureWindow", options.Pairing.FailureWindow, TimeSpan.FromDays(1));
        Positive(errors, "Atlas:Sessions:Lifetime", options.Sessions.Lifetime, TimeSpan.FromDays(1));
        Positive(errors, "Atlas:WebSocket:AuthTimeout", options.WebSocket.AuthTimeout, TimeSpan.FromMinutes(5));
        Positive(errors, "Atlas:WebSocket:HeartbeatInterval", options.WebSocket.HeartbeatInterval, TimeSpan.FromMinutes(10));
        Positive(errors, "Atlas:Files:UploadLifetime", options.Files.UploadLifetime, TimeSpan.FromDays(30));
        if (options.Pairing.MaxFailures < 1 || options.Pairing.MaxFailingAddresses < 1)
        {
            errors.Add("Atlas:Pairing:MaxFailures and MaxFailingAddresses must be at least 1.");
        }

        foreach (var permission in options.Pairing.DefaultPermissions)
        {
            if (!Permissions.IsValid(permission))
            {
                errors.Add($"Atlas:Pairing:DefaultPermissions has '{permission}'; valid: {string.Join(", ", Permissions.All)} or tools:<serverId>.");
            }
        }

        if (options.WebSocket.HeartbeatMisses < 1 || options.WebSocket.MaxConnectionsPerDevice < 1 || options.WebSocket.MaxConnections < 1
            || options.WebSocket.MaxFramesPerSecond < 1 || options.WebSocket.SendQueueLength < 1
            || options.WebSocket.MaxUnauthenticatedConnections < 1 || options.WebSocket.MaxUnauthenticatedConnectionsPerAddress < 1)
        {
            errors.Add("Atlas:WebSocket:HeartbeatMisses, MaxConnectionsPerDevice, MaxConnections, MaxFramesPerSecond, SendQueueLength, "
                + "MaxUnauthenticatedConnections and MaxUnauthenticatedConnectionsPerAddress must be at least 1.");
        }

        Positive(errors, "Atlas:WebSocket:IdempotencyLifetime", options.WebSocket.IdempotencyLifetime, TimeSpan.FromDays(1));
        if (options.WebSocket.ReplaceSilentAfter <= options.WebSocket.HeartbeatInterval)
        {
            errors.Add($"Atlas:WebSocket:ReplaceSilentAfter ({options.WebSocket.ReplaceSilentAfter}) must be longer than Atlas:WebSocket:HeartbeatInterval ({options.WebSocket.HeartbeatInterval}): a live client is silent for up to one interval. Raise it, for example to twice the interval.");
        }

        if (options.WebSocket.IdempotencyMaxAnswerBytes < 0 || options.WebSocket.IdempotencyMaxAnswerBytes > options.WebSocket.IdempotencyBytesPerDevice
            || options.WebSocket.IdempotencyBytesPerDevice > options.WebSocket.IdempotencyBytes)
        {
            errors.Add("Atlas:WebSocket:IdempotencyMaxAnswerBytes (0 or more) must not exceed IdempotencyBytesPerDevice, and that must not exceed IdempotencyBytes; raise the larger settings or lower the smaller ones.");
        }

        if (options.WebSocket.MaxFrameBytes is < 4096 or > 64 * 1024 * 1024)
        {
            errors.Add("Atlas:WebSocket:MaxFrameBytes must be between 4096 and 67108864.");
        }

        if (options.Files.DefaultQuotaBytes < 0 || options.Files.MaxFileBytes < 1 || options.Files.MaxEntries < 1
            || options.Files.MaxFrameReadBytes < 1)
        {
            errors.Add("Atlas:Files:DefaultQuotaBytes must be 0 or more; MaxFileBytes, MaxEntries and MaxFrameReadBytes at least 1.");
        }

        if (options.Files.MaxOpenUploads < 1)
        {
            errors.Add("Atlas:Files:MaxOpenUploads must be at least 1 (resumable upload sessions a device may have open at once; default 8).");
        }

        if (options.Hub.McpRequestsPerDevice < 1)
        {
            errors.Add("Atlas:Hub:McpRequestsPerDevice must be at least 1 (MCP requests one paired device may have running at once on /mcp; default 4).");
        }

        if (options.RateLimits.AuthPerMinute < 1 || options.RateLimits.PairingPerMinute < 1 || options.RateLimits.UploadsPerMinute < 1
            || options.RateLimits.RequestsPerMinute < 1)
        {
            errors.Add("Atlas:RateLimits:AuthPerMinute, PairingPerMinute, UploadsPerMinute and RequestsPerMinute must be at least 1.");
        }

        if (options.Certificate.Path is { Length: > 0 } certificate && !File.Exists(certificate))
        {
            errors.Add($"Atlas:Certificate:Path points at '{certificate}', which does not exist; fix the path or remove the setting to use the self-signed identity.");
        }

        if (options.Certificate.KeyPath is { Length: > 0 } key && !File.Exists(key))
        {
            errors.Add($"Atlas:Certificate:KeyPath points at '{key}', which does not exist.");
        }

        if (options.Tls.Mode is not (Identity.DesktopIdentity.SelfSignedMode or Identity.DesktopIdentity.LocalCaMode))
        {
            errors.Add($"Atlas:Tls:Mode '{options.Tls.Mode}' is not a mode; use 'self-signed' (quick mode, the default) or 'local-ca' (trusted mode: the desktop becomes a name-constrained CA that phones install).");
        }
        else if (options.Tls.Mode == Identity.DesktopIdentity.LocalCaMode && !string.IsNullOrEmpty(options.Certificate.Path))
        {
            errors.Add("Atlas:Tls:Mode 'local-ca' and Atlas:Certificate:Path both choose the certificate; remove one of them.");
        }

        if (options.Tls.CertificateLifetime < TimeSpan.FromHours(1) || options.Tls.CertificateLifetime > TimeSpan.FromDays(397))
        {
            errors.Add($"Atlas:Tls:CertificateLifetime {options.Tls.CertificateLifetime} is out of range; use between 01:00:00 (one hour) and 397.00:00:00 (browsers refuse longer-lived certificates); default 7.00:00:00.");
        }

        if (!Uri.TryCreate(options.Llm.BaseUrl, UriKind.Absolute, out var llm) || llm.Scheme is not ("http" or "https"))
        {
            errors.Add($"Atlas:Llm:BaseUrl '{options.Llm.BaseUrl}' is not an http(s) URL.");
        }

        Chat.ChatOptionsValidator.Validate(errors, options.Llm, options.Chat);

        if (options.Telemetry.Prometheus && (options.Telemetry.PrometheusPort is < 1 or > 65535 || options.Telemetry.PrometheusPort == options.Port))
        {
            errors.Add($"Atlas:Telemetry:PrometheusPort {options.Telemetry.PrometheusPort} must be 1 to 65535 and not the phone-facing port {options.Port}; "
                + "pick a free loopback port (default 9464) or set Atlas:Telemetry:Prometheus=false.");
        }

        if (options.Notifications.Desktop && (string.IsNullOrWhiteSpace(options.Notifications.Command)
            || (options.Notifications.Command.Contains('/', StringComparison.Ordinal) && !Path.IsPathFullyQualified(options.Notifications.Command))))
        {
            errors.Add($"Atlas:Notifications:Command '{options.Notifications.Command}' must be a command name on PATH (notify-send) or an absolute path; "
                + "set Atlas:Notifications:Desktop=false to turn desktop notifications off.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string name, TimeSpan value, TimeSpan max)
    {
        if (value <= TimeSpan.Zero || value > max)
        {
            errors.Add($"{name} is {value}; use a positive duration up to {max} (format hh:mm:ss).");
        }
    }
}
