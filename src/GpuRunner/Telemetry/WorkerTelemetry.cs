using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CodeFormer.GpuRunner.Telemetry;

/// <summary>
/// The worker's traces and metrics, under one name so OpenTelemetry (and tests, with a listener) subscribe to both:
/// a "ProcessJob" activity per delivery, linked to the trace of the function that enqueued it; counters of jobs by
/// outcome and failure reason and of faces; histograms of queue wait (enqueued → started), per-stage time and end to end.
/// </summary>
public sealed class WorkerTelemetry : IDisposable
{
    public const string Name = "CodeFormer.GpuRunner";

    private readonly Meter _meter;
    private readonly Counter<long> _jobs;
    private readonly Counter<long> _faces;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _stage;
    private readonly Histogram<double> _endToEnd;

    public WorkerTelemetry(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        _jobs = _meter.CreateCounter<long>("codeformer.worker.jobs", "{job}", "Deliveries handled, by outcome (succeeded, failed, retried, abandoned, skipped) and failure reason.");
        _faces = _meter.CreateCounter<long>("codeformer.worker.faces", "{face}", "Faces restored in succeeded jobs.");
        _queueWait = _meter.CreateHistogram<double>("codeformer.worker.queue_wait", "s", "From the job's first enqueue to this delivery's start.");
        _stage = _meter.CreateHistogram<double>("codeformer.worker.stage.duration", "s", "Time per stage of a job (download, restore, upload, commit, notify).");
        _endToEnd = _meter.CreateHistogram<double>("codeformer.worker.job.duration", "s", "From the job's first enqueue to its terminal state.");
    }

    public static ActivitySource ActivitySource { get; } = new(Name);

    public void JobFinished(string outcome, string? reason) =>
        _jobs.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason ?? "none"));

    public void FacesRestored(int faces) => _faces.Add(faces);

    public void QueueWait(TimeSpan wait) => _queueWait.Record(Math.Max(0, wait.TotalSeconds));

    public void Stage(string stage, TimeSpan duration) =>
        _stage.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));

    public void EndToEnd(TimeSpan duration, string outcome) =>
        _endToEnd.Record(Math.Max(0, duration.TotalSeconds), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>
    /// Starts the job's activity: a new trace per delivery, linked to the enqueuer's context when the message carries one
    /// (W3C <c>traceparent</c>, or the Service Bus SDK's <c>Diagnostic-Id</c>, which holds the same format).
    /// </summary>
    public static Activity? StartJobActivity(IReadOnlyDictionary<string, object> applicationProperties, string jobId, string tenantId, int deliveryCount)
    {
        var links = new List<ActivityLink>();
        if (TryGetEnqueuerContext(applicationProperties, out var enqueuer))
        {
            links.Add(new ActivityLink(enqueuer));
        }
        var activity = ActivitySource.StartActivity(ActivityKind.Consumer, parentContext: default, tags: null, links: links, name: "ProcessJob");
        activity?.SetTag("codeformer.job.id", jobId);
        activity?.SetTag("codeformer.tenant.id", tenantId);
        activity?.SetTag("messaging.system", "servicebus");
        activity?.SetTag("messaging.message.delivery_count", deliveryCount);
        return activity;
    }

    public static bool TryGetEnqueuerContext(IReadOnlyDictionary<string, object> properties, out ActivityContext context)
    {
        foreach (var key in (string[])["traceparent", "Diagnostic-Id"])
        {
            if (properties.TryGetValue(key, out var value) && value is string text
                && ActivityContext.TryParse(text, properties.TryGetValue("tracestate", out var state) ? state as string : null, out context))
            {
                return true;
            }
        }
        context = default;
        return false;
    }

    public void Dispose() => _meter.Dispose();
}
