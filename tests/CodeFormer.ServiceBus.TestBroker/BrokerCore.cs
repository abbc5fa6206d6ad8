using Amqp;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// The broker's state and its one pump. All queue state sits behind <see cref="Gate"/>; deliveries to
/// receivers are sent by the pump without the gate held, so no network thread ever waits on another
/// connection's locks. The pump also runs the clock: lock expiry and scheduled enqueue times.
/// </summary>
internal sealed class BrokerCore
{
    static readonly TimeSpan LongestNap = TimeSpan.FromMilliseconds(250);
    readonly Dictionary<string, MessageStore> stores = new(StringComparer.OrdinalIgnoreCase);
    readonly SemaphoreSlim wake = new(0, 1);
    long lastSequenceNumber;

    public object Gate { get; } = new();

    public DeliveryTagHandler DeliveryTags { get; } = new();

    /// <summary>Under the gate.</summary>
    public long NextSequenceNumber() => ++lastSequenceNumber;

    /// <summary>Under the gate.</summary>
    public MessageStore? FindStore(string address) => stores.GetValueOrDefault(address);

    /// <summary>Under the gate.</summary>
    public void AddStore(MessageStore store) => stores.Add(store.Address, store);

    public void Wake()
    {
        try
        {
            wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the pump will look at everything on its next turn anyway.
        }
    }

    public async Task RunPumpAsync(CancellationToken stopping)
    {
        var deliveries = new List<PendingDelivery>();
        var drains = new List<ReceiverLinkEndpoint>();
        while (!stopping.IsCancellationRequested)
        {
            TimeSpan nap;
            lock (Gate)
            {
                var now = DateTimeOffset.UtcNow;
                foreach (var store in stores.Values)
                {
                    store.AdvanceClock(now);
                }

                DateTimeOffset? next = null;
                foreach (var store in stores.Values)
                {
                    store.Dispatch(now, deliveries);
                    store.CollectFinishedDrains(drains);
                    if (store.NextDeadline() is { } deadline && (next is null || deadline < next))
                    {
                        next = deadline;
                    }
                }

                nap = next is { } due ? Clamp(due - now) : LongestNap;
            }

            foreach (var delivery in deliveries)
            {
                Send(delivery);
            }

            foreach (var receiver in drains)
            {
                CompleteDrain(receiver);
            }

            deliveries.Clear();
            drains.Clear();
            try
            {
                await wake.WaitAsync(nap, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    void Send(PendingDelivery delivery)
    {
        try
        {
            delivery.Receiver.Link.SendMessage(delivery.Message);
        }
        catch (Exception exception) when (exception is AmqpException or ObjectDisposedException or InvalidOperationException)
        {
            // The link went away between the pick and the send.
            lock (Gate)
            {
                delivery.Receiver.Untrack(delivery.Message);
                delivery.Receiver.Store.ReturnUnsent(delivery.Receiver, delivery.Stored);
            }
        }
    }

    static void CompleteDrain(ReceiverLinkEndpoint receiver)
    {
        try
        {
            receiver.Link.CompleteDrain();
        }
        catch (Exception exception) when (exception is AmqpException or ObjectDisposedException or InvalidOperationException)
        {
            // The link closed; nothing left to drain.
        }
    }

    static TimeSpan Clamp(TimeSpan untilDeadline) =>
        untilDeadline <= TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1)
        : untilDeadline > LongestNap ? LongestNap
        : untilDeadline;
}
