using Atlas.Client;
using Atlas.Client.Protocol;
using Atlas.Desktop.Devices;
using Atlas.Desktop.Hosting;
using Atlas.Desktop.Media;
using Atlas.Media;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Admin;

/// <summary>
/// The admin UI's "Media jobs" view: jobs running and queued on the media pipeline (which device, which task, which file,
/// progress) and the recent finished ones (duration, outcome, whether the cache answered), a cancel action, and the size
/// of the result cache. The cache has no supported "clear" operation while the pipeline runs (its index is a live SQLite
/// database), so the view reports its size and location only.
/// </summary>
internal static class AdminMedia
{
    public static void MapAdminMedia(this RouteGroupBuilder api)
    {
        api.MapGet("/media/jobs", async (MediaJobTracker tracker, DeviceService devices, IOptions<AtlasMediaOptions> media, DataDirectory data, CancellationToken cancellationToken) =>
        {
            var names = (await devices.ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(d => d.Id, d => d.Name, StringComparer.Ordinal);
            names[DesktopChat.DeviceId] = DesktopChat.Name;
            var active = tracker.Active();
            var view = new MediaJobsView(
                [.. active.Where(t => t.Job.Status != MediaJobStatus.Queued).Select(t => View(t, names, null))],
                [.. active.Where(t => t.Job.Status == MediaJobStatus.Queued).Select(t => View(t, names, null))],
                [.. tracker.Recent().Select(f => View(f.Tracked, names, f))],
                CacheSize(media.Value.CacheDirectory ?? data.MediaCacheDirectory));
            return Results.Json(view, AdminJsonContext.Default.MediaJobsView);
        });
        api.MapPost("/media/jobs/{id}/cancel", (string id, MediaJobTracker tracker) => tracker.Cancel(id)
            ? Results.NoContent()
            : throw new AtlasException(ErrorCodes.NotFound, $"No media job '{id}' is queued or running; it may have finished already."));
    }

    private static MediaJobView View(MediaJobTracker.TrackedJob tracked, Dictionary<string, string> names, MediaJobTracker.FinishedJob? finished)
    {
        var job = tracked.Job;
        var progress = job.Progress;
        return new MediaJobView(
            job.Id, tracked.DeviceId, names.GetValueOrDefault(tracked.DeviceId), MediaJobTracker.TaskName(job.Task), tracked.FileName,
            job.Status.ToString().ToLowerInvariant(), progress.Stage, progress.Fraction, progress.Message, tracked.StartedAt,
            finished?.Duration.TotalSeconds, finished?.FromCache, finished?.Error);
    }

    private static MediaCacheView CacheSize(string directory)
    {
        var files = 0;
        long bytes = 0;
        if (Directory.Exists(directory))
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            {
                files++;
                bytes += file.Length;
            }
        }

        return new MediaCacheView(directory, files, bytes);
    }
}
