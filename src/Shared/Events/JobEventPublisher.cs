using Azure.Messaging.EventGrid;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.Shared.Events;

/// <summary>Publishes job events to the job-events topic (input schema CloudEvents 1.0, see job-events-topic.bicep).</summary>
public sealed class JobEventPublisher(EventGridPublisherClient client)
{
    /// <summary>Sends the event; a topic outage throws, so the caller's platform retries.</summary>
    public async Task PublishAsync(JobEventKind kind, JobRecord job, CancellationToken cancellationToken = default)
    {
        await client.SendEventAsync(JobEvents.Create(kind, job), cancellationToken).ConfigureAwait(false);
    }
}
