using Azure.Storage.Queues;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.Functions.Webhooks;

/// <summary>
/// Puts a <see cref="TerminalWebhookNotice"/> on its queue right after a job became cancelled or expired, for
/// <see cref="TerminalWebhookSender"/> to deliver. A queue rather than a call in place: the cancel request must not
/// wait for a slow or failing receiver (up to four tries with backoff), and the sweep must not stall on one.
/// Jobs without a webhook URL send nothing.
/// </summary>
public sealed class TerminalWebhookQueue(QueueClient queue)
{
    /// <summary>True when a notice was queued.</summary>
    public async Task<bool> EnqueueAsync(JobEventKind kind, JobRecord job, CancellationToken cancellationToken = default)
    {
        if (!TerminalWebhookNotice.IsNoticeKind(kind))
        {
            throw new ArgumentException($"Webhook notices are for Cancelled or Expired jobs; the worker calls the webhook for {kind}.", nameof(kind));
        }
        if (job.Options.WebhookUrl is not { Length: > 0 })
        {
            return false;
        }
        var notice = new TerminalWebhookNotice { TenantId = job.TenantId, JobId = job.JobId, Kind = kind };
        await queue.SendMessageAsync(notice.ToJson(), cancellationToken).ConfigureAwait(false);
        return true;
    }
}
