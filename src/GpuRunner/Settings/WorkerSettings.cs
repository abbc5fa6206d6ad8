using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Options;

namespace CodeFormer.GpuRunner.Settings;

/// <summary>
/// How the worker takes jobs (<c>Worker__maxConcurrentJobs</c>, …). Defaults suit one T4 and the queue that
/// infra/bicep provisions (maxDeliveryCount 5).
/// </summary>
public sealed class WorkerSettings
{
    public const string SectionName = "Worker";

    /// <summary>Jobs in flight at once. Two keeps the GPU busy while the other photo decodes, uploads or downloads.</summary>
    public int MaxConcurrentJobs { get; set; } = 2;

    /// <summary>
    /// Messages fetched ahead of the handlers. 0 by default: a GPU job takes seconds, so prefetching saves nothing, and a
    /// prefetched message's lock runs out unrenewed (and counts a delivery) if this replica is killed.
    /// </summary>
    public int PrefetchCount { get; set; }

    /// <summary>The queue's MaxDeliveryCount: on this delivery a transient failure fails the job before it dead-letters.</summary>
    public int MaxDeliveryCount { get; set; } = 5;

    /// <summary>A job running longer than this is cancelled and failed, so it never holds a GPU forever.</summary>
    public TimeSpan JobTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// On SIGTERM, in-flight jobs get this long to finish; then they are abandoned and redelivered at once. 60 s (a typical
    /// job) matches the container app's terminationGracePeriodSeconds of 90 (docs/deployment.md): 60 s of jobs, then 30 s
    /// to abandon, record state and flush telemetry. Raise both together.
    /// </summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>First wait before abandoning a transiently failed job (doubled per delivery, at most <see cref="MaxRetryDelay"/>).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the models from the models container are kept (also the engine's model cache).</summary>
    public string ModelsDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "codeformer-models");

    /// <summary>The manifest blob in the models container: lines "&lt;sha256&gt;  &lt;file&gt;" (sha256sum's format).</summary>
    public string ModelManifest { get; set; } = "SHA256SUMS";

    /// <summary>Webhook calls per notice (first try included) and the first backoff between them (doubled each time).</summary>
    public int WebhookAttempts { get; set; } = 4;

    public TimeSpan WebhookRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The three webhook settings as the shared notifier takes them.</summary>
    public WebhookRetryRules WebhookRules => new(WebhookAttempts, WebhookRetryDelay, WebhookTimeout);

    /// <summary>Every setting out of range, each named.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (MaxConcurrentJobs is < 1 or > 64)
        {
            problems.Add($"Worker:MaxConcurrentJobs must be 1–64, got {MaxConcurrentJobs}.");
        }
        if (PrefetchCount < 0 || PrefetchCount > 4 * MaxConcurrentJobs)
        {
            problems.Add($"Worker:PrefetchCount must be 0–{4 * MaxConcurrentJobs} (4 × MaxConcurrentJobs), got {PrefetchCount}.");
        }
        if (MaxDeliveryCount < 1)
        {
            problems.Add($"Worker:MaxDeliveryCount must be at least 1 (the queue's maxDeliveryCount), got {MaxDeliveryCount}.");
        }
        if (JobTimeout <= TimeSpan.Zero)
        {
            problems.Add($"Worker:JobTimeout must be positive, got {JobTimeout}.");
        }
        if (ShutdownGracePeriod < TimeSpan.Zero)
        {
            problems.Add($"Worker:ShutdownGracePeriod must not be negative, got {ShutdownGracePeriod}.");
        }
        if (RetryDelay < TimeSpan.Zero || MaxRetryDelay < RetryDelay)
        {
            problems.Add($"Worker:RetryDelay must be 0 or more and at most MaxRetryDelay, got {RetryDelay} and {MaxRetryDelay}.");
        }
        if (string.IsNullOrWhiteSpace(ModelsDirectory))
        {
            problems.Add("Worker:ModelsDirectory must name a directory.");
        }
        if (WebhookAttempts is < 1 or > 10)
        {
            problems.Add($"Worker:WebhookAttempts must be 1–10, got {WebhookAttempts}.");
        }
        if (WebhookTimeout <= TimeSpan.Zero || WebhookRetryDelay < TimeSpan.Zero)
        {
            problems.Add("Worker:WebhookTimeout must be positive and Worker:WebhookRetryDelay not negative.");
        }
        return problems;
    }
}

/// <summary>The health endpoint (<c>Health__port</c>, 8080 in Azure; 0 picks a free port, for tests).</summary>
public sealed class HealthSettings
{
    public const string SectionName = "Health";

    public int Port { get; set; } = 8080;

    /// <summary>Loopback only by default (local runs, tests); the container sets it to 0.0.0.0 so the probes reach it.</summary>
    public string Address { get; set; } = "127.0.0.1";
}

internal sealed class WorkerSettingsValidation : IValidateOptions<WorkerSettings>
{
    public ValidateOptionsResult Validate(string? name, WorkerSettings options)
    {
        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
