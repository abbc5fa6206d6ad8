using Azure.Messaging.ServiceBus;
using CodeFormer.Engine.Hosting;
using CodeFormer.GpuRunner.Health;
using CodeFormer.GpuRunner.Jobs;
using CodeFormer.GpuRunner.Settings;
using CodeFormer.Shared.Settings;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CodeFormer.GpuRunner.Queue;

/// <summary>
/// The Service Bus side: a <see cref="ServiceBusProcessor"/> in peek-lock mode with bounded concurrency and prefetch,
/// the lock renewed automatically for the longest job (the job timeout plus a margin), and a thin handler that hands
/// each delivery to <see cref="JobProcessor"/> and settles the message as it decides. Starts after the engine (the
/// hosted services start in order), so no message is taken before the models are loaded.
/// On stop (SIGTERM): stop receiving, let in-flight jobs finish within the grace period, then cancel them, which
/// abandons their messages so another worker gets them at once instead of after the lock expires.
/// </summary>
public sealed class JobQueueListener(
    ServiceBusClient client,
    JobProcessor processor,
    RestorationEngineHost engine,
    WorkerHealth health,
    JobEventSink events,
    IOptions<JobsSettings> jobs,
    IOptions<WorkerSettings> settings,
    ILogger<JobQueueListener> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan LockRenewalMargin = TimeSpan.FromMinutes(2);
    private readonly CancellationTokenSource _graceOver = new();
    private ServiceBusProcessor? _processor;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await engine.Ready.ConfigureAwait(false);
        health.MarkModelsLoaded();
        if (!events.PublishesToTopic)
        {
            logger.LogWarning("JobEvents__topicEndpoint is not set: job events are logged, not published (local development only)");
        }
        var worker = settings.Value;
        _processor = client.CreateProcessor(jobs.Value.QueueName, new ServiceBusProcessorOptions
        {
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            AutoCompleteMessages = false,
            MaxConcurrentCalls = worker.MaxConcurrentJobs,
            PrefetchCount = worker.PrefetchCount,
            MaxAutoLockRenewalDuration = worker.JobTimeout + LockRenewalMargin,
        });
        _processor.ProcessMessageAsync += HandleAsync;
        _processor.ProcessErrorAsync += OnErrorAsync;
        await _processor.StartProcessingAsync(cancellationToken).ConfigureAwait(false);
        var started = _processor;
        health.MarkReceiving(() => started.IsProcessing);
        logger.LogInformation("Receiving jobs from {Queue}: {Concurrency} at a time, prefetch {Prefetch}, lock renewed up to {Renewal}",
            jobs.Value.QueueName, worker.MaxConcurrentJobs, worker.PrefetchCount, worker.JobTimeout + LockRenewalMargin);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        health.MarkStopping();
        if (_processor is null)
        {
            return;
        }
        var grace = settings.Value.ShutdownGracePeriod;
        logger.LogInformation("Stopping: no new jobs; {InFlight} in flight get {Grace} s to finish", health.JobsInFlight, grace.TotalSeconds);
        _graceOver.CancelAfter(grace);
        // Waits for the handlers, which return once their job is done or abandoned after the grace period.
        await _processor.StopProcessingAsync(CancellationToken.None).ConfigureAwait(false);
        await _processor.CloseAsync(CancellationToken.None).ConfigureAwait(false);
        logger.LogInformation("Stopped receiving; every job in flight finished or went back to the queue");
    }

    private async Task HandleAsync(ProcessMessageEventArgs args)
    {
        var message = args.Message;
        var ticket = health.JobStarted(message.MessageId);
        try
        {
            var delivery = new JobDelivery(message.Body, message.MessageId, message.DeliveryCount, message.EnqueuedTime, message.ApplicationProperties);
            var outcome = await processor.ProcessAsync(delivery, _graceOver.Token).ConfigureAwait(false);
            // Settled with no token: the decision is taken and must reach the broker even while stopping.
            switch (outcome.Disposition)
            {
                case DeliveryDisposition.Complete:
                    await args.CompleteMessageAsync(message, CancellationToken.None).ConfigureAwait(false);
                    break;
                case DeliveryDisposition.DeadLetter:
                    await args.DeadLetterMessageAsync(message, outcome.Reason ?? FailureReasons.Transient, Truncate(outcome.Description), CancellationToken.None).ConfigureAwait(false);
                    break;
                default:
                    await args.AbandonMessageAsync(message, new Dictionary<string, object> { ["lastError"] = Truncate(outcome.Description) ?? "" }, CancellationToken.None).ConfigureAwait(false);
                    break;
            }
        }
        finally
        {
            health.JobEnded(ticket);
        }
    }

    private Task OnErrorAsync(ProcessErrorEventArgs args)
    {
        // The processor keeps receiving after an error (it reconnects on its own); log it with where it happened.
        logger.LogWarning(args.Exception, "Service Bus {Source} error on {Entity}: {Error}", args.ErrorSource, args.EntityPath, args.Exception.Message);
        return Task.CompletedTask;
    }

    private static string? Truncate(string? text) => text is { Length: > 1000 } ? text[..1000] : text;

    public async ValueTask DisposeAsync()
    {
        if (_processor is not null)
        {
            await _processor.DisposeAsync().ConfigureAwait(false);
        }
        _graceOver.Dispose();
    }
}
