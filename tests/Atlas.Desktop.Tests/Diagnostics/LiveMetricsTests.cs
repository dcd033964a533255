using Atlas.Desktop.Admin;
using Atlas.Desktop.Diagnostics;
using Atlas.Desktop.Hosting;

namespace Atlas.Desktop.Tests.Diagnostics;

/// <summary>The admin page's live numbers, fed by hand (the instruments are shared by every host of a test process).</summary>
public sealed class LiveMetricsTests
{
    /// <summary>Before: the admin page's "device connections" (live metrics) counted the desktop's own chat socket,
    /// which its "live connections" (the state) leaves out, so the page showed two different counts.</summary>
    [Fact]
    [Trait("Leftovers", "live-count")]
    public void DevicesConnected_LeavesTheDesktopsOwnChatOut()
    {
        using var metrics = new LiveMetrics(new AtlasTime(TimeProvider.System), listen: false);

        Connection(metrics, +1, DesktopChat.DeviceId);
        Connection(metrics, +1, "dev_phone1");
        Connection(metrics, +1, "dev_phone2");
        Connection(metrics, -1, "dev_phone2");

        Assert.Equal(1, metrics.Snapshot().DevicesConnected);
        Connection(metrics, -1, DesktopChat.DeviceId);
        Assert.Equal(1, metrics.Snapshot().DevicesConnected);
    }

    /// <summary>Each socket's measurement says whose it is, for exporters too.</summary>
    [Fact]
    [Trait("Leftovers", "live-count")]
    public void DeviceKind_TellsTheDesktopsOwnChatFromPairedDevices()
    {
        Assert.Equal(("atlas.device.kind", (object?)"desktop"), (AtlasTelemetry.DeviceKind(DesktopChat.DeviceId).Key, AtlasTelemetry.DeviceKind(DesktopChat.DeviceId).Value));
        Assert.Equal("paired", AtlasTelemetry.DeviceKind("dev_phone1").Value);
    }

    private static void Connection(LiveMetrics metrics, long change, string deviceId) =>
        metrics.OnLong("atlas.ws.connections", change, [AtlasTelemetry.DeviceKind(deviceId)]);
}
