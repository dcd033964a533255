using System.Text.Json;
using System.Text.Json.Nodes;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Media;
using Atlas.Desktop.Tests.Chat;
using Atlas.Desktop.Tests.Infrastructure;
using Atlas.Media;
using ImageMagick;

namespace Atlas.Desktop.Tests.Media;

/// <summary>Revoking a device stops the media jobs running for it: a real describe job, held at the (fake) vision model.</summary>
[Trait("Speed", "slow")]
public sealed class MediaRevokeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A job a phone started over its socket is cancelled when the device is revoked: the job ends Cancelled
    /// and its call to the vision model is cut.</summary>
    [Fact]
    [Trait("Issue8", "media-revoke")]
    public async Task Revoke_WhileTheDevicesJobRuns_CancelsTheJob()
    {
        await using var chat = await ChatHost.StartAsync();
        chat.Fake.Enqueue(FakeReply.Stream().Gate(new TaskCompletionSource())); // the model never answers
        var (deviceId, token) = await chat.Host.ProvisionAsync("Phone");
        await chat.Host.Get<DeviceService>().SetPermissionsAsync(deviceId, [Permissions.MediaProcess], null, Ct);
        var (socket, _) = await chat.Host.ConnectRawAsync(token);
        using var _socket = socket;
        await AtlasTestHost.SendAsync(socket, new AtlasEnvelope
        {
            Type = MessageTypes.MediaProcess,
            Id = "m-revoke",
            Data = JsonSerializer.SerializeToElement(new JsonObject { ["task"] = "describe", ["content"] = Convert.ToBase64String(Picture()), ["fileName"] = "square.png" }),
        });
        var asked = await chat.Fake.NextRequestAsync(Ct); // the job runs: it is waiting for the vision model
        var job = Assert.Single(chat.Host.Get<MediaJobTracker>().Active(), j => j.DeviceId == deviceId).Job;

        await chat.Host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: false, Ct);

        await Task.WhenAny(job.Completion).WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(MediaJobStatus.Cancelled, job.Status);
        await asked.Ended.WaitAsync(TestTimeouts.Default, Ct);
        Assert.True(asked.WasAborted, "the call to the vision model was cut");
    }

    /// <summary>A job that reaches the tracker only after its device was revoked (the revoke fell between submitting and
    /// tracking) is cancelled as it is tracked.</summary>
    [Fact]
    [Trait("Issue8", "media-revoke")]
    public async Task Track_JobOfADeviceRevokedMeanwhile_CancelsTheJob()
    {
        await using var chat = await ChatHost.StartAsync();
        chat.Fake.Enqueue(FakeReply.Stream().Gate(new TaskCompletionSource()));
        var (deviceId, _) = await chat.Host.ProvisionAsync("Phone");
        var job = await chat.Host.Get<MediaPipeline>().SubmitAsync(new Atlas.Media.MediaRequest { Task = MediaTask.Describe, Content = new MemoryStream(Picture()), FileName = "square.png" }, cancellationToken: Ct);
        await chat.Fake.NextRequestAsync(Ct);
        await chat.Host.Get<DeviceService>().RevokeAsync(deviceId, deleteFiles: false, Ct);

        chat.Host.Get<MediaJobTracker>().Track(deviceId, "late", job, "square.png");

        await Task.WhenAny(job.Completion).WaitAsync(TestTimeouts.Default, Ct);
        Assert.Equal(MediaJobStatus.Cancelled, job.Status);
    }

    private static byte[] Picture()
    {
        using var image = new MagickImage(MagickColors.Red, 64, 48);
        return image.ToByteArray(MagickFormat.Png);
    }
}
