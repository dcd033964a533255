namespace Atlas.Client.Credentials;

/// <summary>What a paired device keeps: where the desktop is, its pin, and the device's own credential.</summary>
/// <param name="BaseUri">The desktop's https base address.</param>
/// <param name="Fingerprint">The desktop's SPKI pin; connections to any other key are refused.</param>
/// <param name="DeviceId">The server-assigned device id.</param>
/// <param name="Credential">The long-lived device credential (a secret: store it where only the user can read it).</param>
/// <param name="DesktopName">The desktop's name, for display.</param>
public sealed record DeviceCredentials(Uri BaseUri, string Fingerprint, string DeviceId, string Credential, string DesktopName)
{
    /// <summary>Hides the secret from logs and debugger displays.</summary>
    /// <returns>A description without the credential.</returns>
    public override string ToString() => $"DeviceCredentials {{ BaseUri = {BaseUri}, DeviceId = {DeviceId}, Fingerprint = {Fingerprint} }}";
}
