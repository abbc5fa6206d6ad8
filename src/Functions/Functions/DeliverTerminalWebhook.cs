using Azure.Storage.Queues.Models;
using CodeFormer.Functions.Webhooks;
using Microsoft.Azure.Functions.Worker;

namespace CodeFormer.Functions.Functions;

/// <summary>
/// The queue trigger on <see cref="TerminalWebhookNotice.QueueName"/> in the data account: calls the webhook of a job
/// that was cancelled or expired. A thin adapter over <see cref="TerminalWebhookSender"/>, which decides at-most-once
/// from the message's dequeue count, so this returns normally for every notice it has dealt with.
/// </summary>
public sealed class DeliverTerminalWebhook(TerminalWebhookSender sender)
{
    [Function(nameof(DeliverTerminalWebhook))]
    public async Task RunAsync(
        [QueueTrigger(TerminalWebhookNotice.QueueName, Connection = "Storage")] QueueMessage message,
        CancellationToken cancellationToken)
    {
        await sender.SendAsync(message.Body.ToString(), message.DequeueCount, cancellationToken);
    }
}
