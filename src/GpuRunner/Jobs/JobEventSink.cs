using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using Microsoft.Extensions.Logging;

namespace CodeFormer.GpuRunner.Jobs;

/// <summary>
/// Where the worker's job events go: the job-events topic when <c>JobEvents__topicEndpoint</c> is set (always, in
/// Azure), otherwise only the log, so a developer can run the worker locally without an Event Grid topic. The choice
/// is made once at start and logged.
/// </summary>
public sealed class JobEventSink(JobEventPublisher? publisher, ILogger<JobEventSink> logger)
{
    public bool PublishesToTopic => publisher is not null;

    public Task PublishAsync(JobEventKind kind, JobRecord job, CancellationToken cancellationToken)
    {
        if (publisher is not null)
        {
            return publisher.PublishAsync(kind, job, cancellationToken);
        }
        logger.LogInformation("Job event {Kind} for job {JobId} (no JobEvents__topicEndpoint: logged, not published)", kind, job.JobId);
        return Task.CompletedTask;
    }
}
