namespace Atlas.Desktop.Diagnostics;

/// <summary>Source-generated log messages with stable event ids. Secrets (tickets, tokens, credentials, file contents)
/// are never logged.</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Warning, "Refused a request from {Address}: not a loopback or private address")]
    public static partial void RefusedAddress(ILogger logger, string address);

    [LoggerMessage(1002, LogLevel.Warning, "Refused a request for host '{Host}': not in the Host allow-list")]
    public static partial void RefusedHost(ILogger logger, string host);

    [LoggerMessage(1003, LogLevel.Warning, "Refused a request with Origin '{Origin}': not one of the desktop's origins")]
    public static partial void RefusedOrigin(ILogger logger, string origin);

    [LoggerMessage(1010, LogLevel.Warning, "Refused a WebSocket from {Address}: too many sockets waiting for their auth frame ({Waiting} in total)")]
    public static partial void RefusedUnauthenticatedSocket(ILogger logger, string address, int waiting);

    [LoggerMessage(1120, LogLevel.Warning, "Pairing refused for {Address} after {Failures} failed attempts from it; pairing stays open for other addresses")]
    public static partial void PairingAddressLocked(ILogger logger, string address, int failures);

    [LoggerMessage(1131, LogLevel.Debug, "Desktop notifications skipped: '{Command}' is not installed (Debian: apt install libnotify-bin)")]
    public static partial void NotifierMissing(ILogger logger, string command);

    [LoggerMessage(1132, LogLevel.Warning, "Telling the desktop user about a device waiting for approval failed ({Channel}): {Reason}")]
    public static partial void ApprovalAlertFailed(ILogger logger, string channel, string reason);

    [LoggerMessage(1101, LogLevel.Warning, "Pairing attempt failed from {Address} ({Failures} recent failures)")]
    public static partial void PairingFailed(ILogger logger, string address, int failures);

    [LoggerMessage(1102, LogLevel.Warning, "Pairing closed after {Failures} failed attempts; open a new pairing window with 'atlas pair'")]
    public static partial void PairingClosed(ILogger logger, int failures);

    [LoggerMessage(1103, LogLevel.Information, "Device {DeviceId} ('{Name}', {Platform}) redeemed a pairing ticket from {Address}; check code {CheckCode}; status {Status}")]
    public static partial void DevicePaired(ILogger logger, string deviceId, string name, string platform, string address, string checkCode, string status);

    [LoggerMessage(1104, LogLevel.Information, "Device {DeviceId} approved")]
    public static partial void DeviceApproved(ILogger logger, string deviceId);

    [LoggerMessage(1105, LogLevel.Information, "Device {DeviceId} revoked; {Sockets} live sockets closed, {Requests} HTTP requests cut")]
    public static partial void DeviceRevoked(ILogger logger, string deviceId, int sockets, int requests);

    [LoggerMessage(1106, LogLevel.Information, "Device {DeviceId} permissions changed to [{Permissions}]")]
    public static partial void PermissionsChanged(ILogger logger, string deviceId, string permissions);

    [LoggerMessage(1201, LogLevel.Debug, "WebSocket for device {DeviceId} closed: {Reason}")]
    public static partial void SocketClosed(ILogger logger, string deviceId, string reason);

    [LoggerMessage(1202, LogLevel.Warning, "WebSocket loop for device {DeviceId} failed")]
    public static partial void SocketFailed(ILogger logger, Exception exception, string deviceId);

    [LoggerMessage(1211, LogLevel.Information, "WebSocket of device {DeviceId} silent for {Seconds:0} s replaced by a new socket of the device")]
    public static partial void SocketReplaced(ILogger logger, string deviceId, double seconds);

    [LoggerMessage(1203, LogLevel.Error, "Request {Type} from device {DeviceId} failed")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string type, string deviceId);

    [LoggerMessage(1204, LogLevel.Error, "{Method} {Path} failed")]
    public static partial void EndpointFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(1301, LogLevel.Warning, "Background cleanup failed")]
    public static partial void CleanupFailed(ILogger logger, Exception exception);

    [LoggerMessage(1302, LogLevel.Warning, "Could not restrict the control socket {Path} to the current user")]
    public static partial void ControlSocketMode(ILogger logger, Exception exception, string path);

    [LoggerMessage(1501, LogLevel.Warning, "TLS mode changed from {Previous} to {Mode}; the pin changed and {Revoked} device(s) were revoked and must pair again")]
    public static partial void TlsModeChanged(ILogger logger, string previous, string mode, int revoked);

    [LoggerMessage(1502, LogLevel.Warning, "Rotated the local CA (new pin {Fingerprint}); {Revoked} device(s) were revoked and must pair again")]
    public static partial void TlsAuthorityRotated(ILogger logger, string fingerprint, int revoked);
}
