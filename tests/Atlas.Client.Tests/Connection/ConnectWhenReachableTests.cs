using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Atlas.Client.Connection;
using Atlas.Client.Credentials;
using Atlas.Client.Protocol;

namespace Atlas.Client.Tests.Connection;

/// <summary>"Connect when reachable" in Atlas.Client: an unreachable desktop is an answer (try later), a refusal is not.</summary>
public sealed class ConnectWhenReachableTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Network failures mean "offline, try later".</summary>
    [Fact]
    [Trait("Issue13", "clients")]
    public void IsUnreachable_NetworkFailures_True()
    {
        Assert.True(AtlasReachability.IsUnreachable(new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(AtlasReachability.IsUnreachable(new SocketException((int)SocketError.HostUnreachable)));
        Assert.True(AtlasReachability.IsUnreachable(new TimeoutException()));
        Assert.True(AtlasReachability.IsUnreachable(new TaskCanceledException("request timed out")));
    }

    /// <summary>A wrong certificate, a refusal or the caller's own cancellation is never "unreachable".</summary>
    [Fact]
    [Trait("Issue13", "clients")]
    public void IsUnreachable_MismatchRefusalOrCancellation_False()
    {
        var mismatch = new HttpRequestException("ssl", new AuthenticationException("remote certificate rejected"));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.False(AtlasReachability.IsUnreachable(mismatch));
        Assert.True(AtlasReachability.IsCertificateMismatch(mismatch));
        Assert.False(AtlasReachability.IsUnreachable(new AtlasException(ErrorCodes.Revoked, "revoked")));
        Assert.False(AtlasReachability.IsCertificateMismatch(new AtlasException(ErrorCodes.Revoked, "revoked")));
        Assert.False(AtlasReachability.IsUnreachable(new TaskCanceledException("stop", null, cancelled.Token)));
    }

    /// <summary>With nothing listening at the desktop's address, TryConnectAsync answers null instead of throwing.</summary>
    [Fact]
    [Trait("Issue13", "clients")]
    public async Task TryConnectAsync_NothingListening_AnswersNull()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var credentials = new DeviceCredentials(new Uri($"https://127.0.0.1:{port}/"), new string('A', 43), "dev_x", "secret", "Desk");
        using var client = new AtlasClient(credentials);

        Assert.Null(await client.TryConnectAsync(Ct));
    }

    /// <summary>Waiting for the desktop stops when the caller cancels.</summary>
    [Fact]
    [Trait("Issue13", "clients")]
    public async Task ConnectWhenReachableAsync_Cancelled_StopsWaiting()
    {
        var credentials = new DeviceCredentials(new Uri("https://127.0.0.1:9/"), new string('A', 43), "dev_x", "secret", "Desk");
        using var client = new AtlasClient(credentials);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ConnectWhenReachableAsync(cancelled.Token));
    }
}
