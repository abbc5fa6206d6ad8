using System.Collections.Concurrent;
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
/// The Service Bus side: a peek-lock receive loop of our own over a <see cref="ServiceBusReceiver"/>, with bounded
/// concurrency and read-ahead, each message's lock renewed for the longest job (the job timeout plus a margin), and a
/// handler that hands each delivery to <see cref="JobProcessor"/> and settles the message as it decides. Starts after
/// the engine (the hosted services start in order), so no message is taken before the models are loaded.
/// <para>
/// Why not <see cref="ServiceBusProcessor"/>: on stop it keeps its receive calls open until they time out, so a message
/// that one of its own handlers abandoned at the end of the grace period could be delivered straight back to the
/// stopping processor, which then neither runs nor settles it: the message waits out its lock (and counts a delivery)
/// instead of going to another worker. Here the order on stop (SIGTERM) is explicit:
/// </para>
/// <list type="number">
/// <item>stop receiving: the pending receive is cancelled and none is issued again, and the SDK's own prefetch is off,
/// so this worker holds no link credit and nothing more can arrive; messages read ahead but not started are abandoned
/// at once;</item>
/// <item>give the jobs in flight the grace period (<see cref="WorkerSettings.ShutdownGracePeriod"/>);</item>
/// <item>cancel those still running: their handlers abandon the messages, so another worker gets them at once, with
/// this worker's delivery counted once;</item>
/// <item>close the receiver once every message it holds is settled.</item>
/// </list>
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
    /// <summary>How long one receive call waits for a message; stopping cancels it, so this only bounds idle round trips.</summary>
    private static readonly TimeSpan ReceiveWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReceiveErrorPause = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopReceiving = new();
    private readonly CancellationTokenSource _graceOver = new();
    private readonly ConcurrentDictionary<Task, byte> _handlers = new();
    private ServiceBusReceiver? _receiver;
    private Task? _receiveLoop;
    /// <summary>Messages this worker holds (running or read ahead): MaxConcurrentJobs + PrefetchCount.</summary>
    private SemaphoreSlim? _held;
    /// <summary>Jobs running: MaxConcurrentJobs.</summary>
    private SemaphoreSlim? _running;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await engine.Ready.ConfigureAwait(false);
        health.MarkModelsLoaded();
        if (!events.PublishesToTopic)
        {
            logger.LogWarning("JobEvents__topicEndpoint is not set: job events are logged, not published (local development only)");
        }
        var worker = settings.Value;
        // The SDK's prefetch stays off: prefetched messages sit in the link's buffer where stopping cannot give them back.
        // Read-ahead (Worker:PrefetchCount) is done here instead, on messages this loop received and can abandon.
        _receiver = client.CreateReceiver(jobs.Value.QueueName, new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.PeekLock, PrefetchCount = 0 });
        _held = new SemaphoreSlim(worker.MaxConcurrentJobs + worker.PrefetchCount);
        _running = new SemaphoreSlim(worker.MaxConcurrentJobs);
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(_receiver, _stopReceiving.Token), CancellationToken.None);
        var loop = _receiveLoop;
        health.MarkReceiving(() => !loop.IsCompleted);
        logger.LogInformation("Receiving jobs from {Queue}: {Concurrency} at a time, prefetch {Prefetch}, lock renewed up to {Renewal}",
            jobs.Value.QueueName, worker.MaxConcurrentJobs, worker.PrefetchCount, worker.JobTimeout + LockRenewalMargin);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        health.MarkStopping();
        if (_receiver is null || _receiveLoop is null)
        {
            return;
        }
        var grace = settings.Value.ShutdownGracePeriod;
        // 1. No more receiving, and read-ahead messages that did not start go back (their handlers see _stopReceiving).
        await _stopReceiving.CancelAsync().ConfigureAwait(false);
        await _receiveLoop.ConfigureAwait(false);
        logger.LogInformation("Stopping: receiving stopped; {InFlight} in flight get {Grace} s to finish", health.JobsInFlight, grace.TotalSeconds);
        // 2. and 3. The grace period, then the rest is cancelled and abandoned by its handler.
        _graceOver.CancelAfter(grace);
        try
        {
            await Task.WhenAll(_handlers.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("The host's shutdown timeout came before every job was settled; {InFlight} messages wait out their locks", _handlers.Count);
        }
        // 4. Every message it received is settled: the link can go.
        await _receiver.CloseAsync(CancellationToken.None).ConfigureAwait(false);
        logger.LogInformation("Stopped receiving; every job in flight finished or went back to the queue");
    }

    private async Task ReceiveLoopAsync(ServiceBusReceiver receiver, CancellationToken stop)
    {
        var capacity = settings.Value.MaxConcurrentJobs + settings.Value.PrefetchCount;
        while (!stop.IsCancellationRequested)
        {
            var slots = 0;
            try
            {
                await _held!.WaitAsync(stop).ConfigureAwait(false);
                slots = 1;
                while (slots < capacity && _held.Wait(0))
                {
                    slots++;
                }
                var messages = await receiver.ReceiveMessagesAsync(slots, ReceiveWait, stop).ConfigureAwait(false);
                // Each received message keeps its slot until its handler is done; the rest are free again.
                ReleaseUnused(slots - messages.Count);
                slots = 0;
                foreach (var message in messages)
                {
                    var handler = HandleAsync(receiver, message);
                    _handlers.TryAdd(handler, 0);
                    _ = handler.ContinueWith(done => _handlers.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                ReleaseUnused(slots);
                break;
            }
            catch (Exception e)
            {
                ReleaseUnused(slots);
                // The SDK retried already (transient errors); pause briefly instead of spinning, then receive again.
                logger.LogWarning(e, "Receiving from {Queue} failed: {Error}", receiver.EntityPath, e.Message);
                try
                {
                    await Task.Delay(ReceiveErrorPause, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private void ReleaseUnused(int slots)
    {
        if (slots > 0)
        {
            _held!.Release(slots);
        }
    }

    private async Task HandleAsync(ServiceBusReceiver receiver, ServiceBusReceivedMessage message)
    {
        // Off the receive loop at once: the loop goes back to receiving while this message waits for a slot or runs.
        await Task.Yield();
        using var renewal = new CancellationTokenSource();
        var renewing = RenewLockAsync(receiver, message, renewal.Token);
        try
        {
            JobOutcome outcome;
            try
            {
                await _running!.WaitAsync(_stopReceiving.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Read ahead, never started: back to the queue now, for another worker.
                await SettleAsync(receiver, message, JobOutcome.ShuttingDown()).ConfigureAwait(false);
                return;
            }
            var ticket = health.JobStarted(message.MessageId);
            try
            {
                var delivery = new JobDelivery(message.Body, message.MessageId, message.DeliveryCount, message.EnqueuedTime, message.ApplicationProperties);
                outcome = await processor.ProcessAsync(delivery, _graceOver.Token).ConfigureAwait(false);
            }
            finally
            {
                health.JobEnded(ticket);
                _running.Release();
            }
            await SettleAsync(receiver, message, outcome).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Unsettled, it returns when its lock expires; nothing here may take the loop down. A warning, not an error:
            // Error is kept for failed jobs, which the failed-job alert counts.
            logger.LogWarning(e, "Message {MessageId} could not be handled or settled: {Error}", message.MessageId, e.Message);
        }
        finally
        {
            await renewal.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(false);
            _held!.Release();
        }
    }

    /// <summary>Settled with no token: the decision is taken and must reach the broker even while stopping.</summary>
    private static async Task SettleAsync(ServiceBusReceiver receiver, ServiceBusReceivedMessage message, JobOutcome outcome)
    {
        switch (outcome.Disposition)
        {
            case DeliveryDisposition.Complete:
                await receiver.CompleteMessageAsync(message, CancellationToken.None).ConfigureAwait(false);
                break;
            case DeliveryDisposition.DeadLetter:
                await receiver.DeadLetterMessageAsync(message, outcome.Reason ?? FailureReasons.Transient, Truncate(outcome.Description), CancellationToken.None).ConfigureAwait(false);
                break;
            default:
                await receiver.AbandonMessageAsync(message, new Dictionary<string, object> { ["lastError"] = Truncate(outcome.Description) ?? "" }, CancellationToken.None).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>
    /// Keeps the message's lock while it waits or runs: renewed at half its remaining time (as the SDK's processor does),
    /// up to the job timeout plus a margin. A lost lock ends the renewal; settling then fails and the message is redelivered.
    /// </summary>
    private async Task RenewLockAsync(ServiceBusReceiver receiver, ServiceBusReceivedMessage message, CancellationToken done)
    {
        var renewUntil = DateTimeOffset.UtcNow + settings.Value.JobTimeout + LockRenewalMargin;
        try
        {
            while (true)
            {
                var remaining = message.LockedUntil - DateTimeOffset.UtcNow;
                await Task.Delay(remaining > TimeSpan.FromMilliseconds(200) ? remaining / 2 : TimeSpan.FromMilliseconds(100), done).ConfigureAwait(false);
                if (DateTimeOffset.UtcNow > renewUntil)
                {
                    return;
                }
                try
                {
                    await receiver.RenewMessageLockAsync(message, done).ConfigureAwait(false);
                }
                catch (ServiceBusException e) when (e.Reason == ServiceBusFailureReason.MessageLockLost)
                {
                    logger.LogWarning("Lock of message {MessageId} was lost: {Error}", message.MessageId, e.Message);
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A transient failure: try again at the next turn while the lock lasts.
                    logger.LogWarning(e, "Renewing the lock of message {MessageId} failed: {Error}", message.MessageId, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The handler is done with the message.
        }
    }

    private static string? Truncate(string? text) => text is { Length: > 1000 } ? text[..1000] : text;

    public async ValueTask DisposeAsync()
    {
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync().ConfigureAwait(false);
        }
        _stopReceiving.Dispose();
        _graceOver.Dispose();
        _held?.Dispose();
        _running?.Dispose();
    }
}
