using System.Net;
using System.Net.Sockets;
using Atlas.Client.Credentials;

namespace Atlas.Client.Tests;

/// <summary>The session cache of <see cref="AtlasClient"/> off the request path: forgetting a session never waits for a
/// renewal that is waiting on the network.</summary>
public sealed class AtlasClientSessionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>InvalidateSession returns while a renewal holds the session lock across its network call (regression:
    /// it waited synchronously on that lock, for as long as the desktop took to answer).</summary>
    [Fact]
    [Trait("Issue13", "blocking")]
    public async Task InvalidateSession_WhileRenewalWaitsOnTheNetwork_ReturnsWithoutWaiting()
    {
        // A desktop that accepts the connection and never answers: the renewal waits in its TLS handshake, holding the lock.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new AtlasClient(new DeviceCredentials(new Uri($"https://127.0.0.1:{port}/"), new string('A', 43), "dev_1", "dev_1.x", "d"),
            new AtlasClientOptions { RequestTimeout = Timeout.InfiniteTimeSpan });
        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pending = client.GetSessionAsync(renewal.Token);
        using var accepted = await listener.AcceptTcpClientAsync(Ct).AsTask().WaitAsync(TestTimeouts.Default, Ct);

        // Only returning lets the test go on to end the renewal: a blocked call never returns, and the wait fails.
        await Task.Run(client.InvalidateSession, Ct).WaitAsync(TestTimeouts.Default, Ct);

        await renewal.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }
}
