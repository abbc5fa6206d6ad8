using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CodeFormer.Functions.Webhooks;

/// <summary>What one notice led to.</summary>
public enum TerminalWebhookOutcome
{
    /// <summary>The receiver answered 2xx.</summary>
    Delivered,
    /// <summary>Tried and given up (retries spent, a 4xx, the URL refused at call time, no tenant secret).</summary>
    NotDelivered,
    /// <summary>The message was seen before: an earlier run may already have called, so this one does not.</summary>
    SkippedRedelivery,
    /// <summary>The job has no webhook URL (any more), or is gone, or is not in the notice's state.</summary>
    SkippedNothingToSend,
    /// <summary>The message is not a notice.</summary>
    Invalid,
}

/// <summary>
/// Delivers the webhook of a cancelled or expired job from its <see cref="TerminalWebhookNotice"/>, with the GPU
/// worker's own <see cref="WebhookNotifier"/>: the same signature, event id "{jobId}.{state}", payload, URL checks
/// at call time and bounded retries. At most once, as the worker's call after its commit: a notice the queue hands
/// out again (its first run died or failed part-way, perhaps after calling) is dropped, never sent a second time.
/// </summary>
public sealed class TerminalWebhookSender(JobStore jobs, WebhookNotifier notifier, ILogger<TerminalWebhookSender>? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger<TerminalWebhookSender>.Instance;

    /// <param name="dequeueCount">How often the queue has handed out this message, this time included.</param>
    public async Task<TerminalWebhookOutcome> SendAsync(string message, long dequeueCount, CancellationToken cancellationToken = default)
    {
        TerminalWebhookNotice notice;
        try
        {
            notice = TerminalWebhookNotice.Parse(message);
        }
        catch (FormatException e)
        {
            // Completing it (not throwing) keeps a message that can never work out of the retry loop.
            _logger.LogError("Webhook notice dropped: {Problem}", e.Message);
            return TerminalWebhookOutcome.Invalid;
        }
        if (dequeueCount > 1)
        {
            _logger.LogWarning("Webhook notice {Kind} for job {JobId} handed out {DequeueCount} times; not sent again (at most once)",
                notice.Kind, notice.JobId, dequeueCount);
            return TerminalWebhookOutcome.SkippedRedelivery;
        }
        var job = await jobs.GetAsync(notice.TenantId, notice.JobId, cancellationToken).ConfigureAwait(false);
        var expectedState = notice.Kind == JobEventKind.Cancelled ? JobState.Cancelled : JobState.Expired;
        if (job is null || job.State != expectedState || job.Options.WebhookUrl is not { Length: > 0 })
        {
            _logger.LogWarning("Webhook notice {Kind} for job {JobId} of tenant {TenantId}: nothing to send (job {State})",
                notice.Kind, notice.JobId, notice.TenantId, job?.State.ToString() ?? "not found");
            return TerminalWebhookOutcome.SkippedNothingToSend;
        }
        var delivered = await notifier.NotifyAsync(notice.Kind, job, cancellationToken).ConfigureAwait(false);
        return delivered ? TerminalWebhookOutcome.Delivered : TerminalWebhookOutcome.NotDelivered;
    }
}
