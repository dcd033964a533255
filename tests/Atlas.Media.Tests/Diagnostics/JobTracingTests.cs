using System.Collections.Concurrent;
using System.Diagnostics;

namespace Atlas.Media.Tests.Diagnostics;

/// <summary>Spans of media jobs: queued work outlives the request that submitted it, so it is a trace of its own.</summary>
[Trait("Speed", "slow")]
public sealed class JobTracingTests(MediaFixture media)
{
    /// <summary>A job's span starts a trace of its own, linked to the span that submitted the job, and never joins the
    /// trace that was current when the pipeline (and its workers) started.</summary>
    [Fact]
    [Trait("Issue15", "trace-isolation")]
    public async Task Job_SubmittedInsideASpan_RunsInATraceOfItsOwnLinkedToTheSubmitter()
    {
        using var source = new ActivitySource("Atlas.Media.Tests.Tracing");
        var started = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "Atlas.Media" or "Atlas.Media.Tests.Tracing",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = started.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        PipelineHarness harness;
        ActivityTraceId startup;
        using (var construct = source.StartActivity("startup"))
        {
            harness = new PipelineHarness();
            startup = construct!.TraceId;
        }

        await using (harness)
        {
            ActivityContext submitter;
            MediaJob job;
            using (var submit = source.StartActivity("submit"))
            {
                submitter = submit!.Context;
                job = await harness.Pipeline.SubmitAsync(MediaRequest.ForFile(MediaTask.Analyze, media.SmallPng) with { BypassCache = true }, cancellationToken: TestContext.Current.CancellationToken);
            }

            await job.Completion.WaitAsync(TestTimeouts.Default, TestContext.Current.CancellationToken);

            var span = Assert.Single(started, a => a.DisplayName.StartsWith("media.job ", StringComparison.Ordinal) && Equals(a.GetTagItem("atlas.media.job_id"), job.Id));
            Assert.NotEqual(startup, span.TraceId);
            Assert.NotEqual(submitter.TraceId, span.TraceId);
            Assert.Equal(default, span.ParentSpanId);
            Assert.Contains(span.Links, l => l.Context.SpanId == submitter.SpanId);
        }
    }
}
