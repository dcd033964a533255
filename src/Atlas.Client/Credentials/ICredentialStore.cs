namespace Atlas.Client.Credentials;

/// <summary>Where a client keeps its device credentials between runs.</summary>
public interface ICredentialStore
{
    /// <summary>Loads the stored credentials, or <see langword="null"/> when the device is not paired.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The credentials or <see langword="null"/>.</returns>
    ValueTask<DeviceCredentials?> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores credentials, replacing any earlier ones.</summary>
    /// <param name="credentials">The credentials.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the credentials are durable.</returns>
    ValueTask SaveAsync(DeviceCredentials credentials, CancellationToken cancellationToken = default);

    /// <summary>Forgets the credentials (after revocation or unpairing).</summary>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>A task that completes when the credentials are gone.</returns>
    ValueTask DeleteAsync(CancellationToken cancellationToken = default);
}
