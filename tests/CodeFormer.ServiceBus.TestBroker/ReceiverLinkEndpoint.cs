using Amqp;
using Amqp.Framing;
using Amqp.Listener;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// A client's receive link on a queue or dead-letter queue: tracks link credit (mirroring AMQPNetLite's own
/// accounting) and turns the client's dispositions into complete / abandon / dead-letter.
/// Messages are pushed by the broker's pump, never from this link's network thread.
/// </summary>
internal sealed class ReceiverLinkEndpoint : LinkEndpoint
{
    readonly BrokerCore core;
    readonly MessageStore store;
    readonly Dictionary<Message, Guid> unsettled = new(ReferenceEqualityComparer.Instance);

    public ReceiverLinkEndpoint(BrokerCore core, MessageStore store, ListenerLink link, bool peekLock)
    {
        this.core = core;
        this.store = store;
        Link = link;
        PeekLock = peekLock;
    }

    public ListenerLink Link { get; }

    public MessageStore Store => store;

    public bool PeekLock { get; }

    // Link flow control in AMQP's terms, guarded by the broker gate: the receiver may take messages until our
    // delivery count reaches its limit (its delivery-count plus link-credit). Both wrap like AMQP sequence numbers.
    int receiverLimit;
    int dispatchedCount;

    /// <summary>Messages the client will still accept.</summary>
    public int Credit => Math.Max(0, unchecked(receiverLimit - dispatchedCount));

    public bool DrainRequested { get; set; }

    public void OnDispatched() => dispatchedCount++;

    public void OnSendFailed() => dispatchedCount--;

    /// <summary>Answering a drain uses up the remaining credit, as the link does when told to complete it.</summary>
    public void FinishDrain()
    {
        DrainRequested = false;
        if (Credit > 0)
        {
            dispatchedCount = receiverLimit;
        }
    }

    public void Track(Message message, Guid lockToken)
    {
        if (PeekLock)
        {
            unsettled[message] = lockToken;
        }
    }

    public void Untrack(Message message) => unsettled.Remove(message);

    public override void OnFlow(FlowContext flowContext)
    {
        // Messages is what the flow added to the limit the link knew; the limit itself never reaches us.
        int limit;
        lock (core.Gate)
        {
            receiverLimit = unchecked(receiverLimit + flowContext.Messages);
            limit = receiverLimit;
        }

        if (flowContext.Messages <= 0)
        {
            // Outside the gate: this takes the link's own lock, which AMQPNetLite may hold while calling into us.
            var restored = ListenerLinkCredit.Restore(Link, limit);
            lock (core.Gate)
            {
                receiverLimit = restored;
            }
        }

        lock (core.Gate)
        {
            if (flowContext.Link.IsDraining)
            {
                DrainRequested = true;
            }
        }

        core.Wake();
    }

    public override void OnDisposition(DispositionContext dispositionContext)
    {
        Error? error;
        lock (core.Gate)
        {
            if (!PeekLock)
            {
                return;
            }

            if (!unsettled.Remove(dispositionContext.Message, out var lockToken))
            {
                error = MessageStore.LockLostError(Guid.Empty);
            }
            else if (dispositionContext.DeliveryState is Released)
            {
                if (Link.IsClosed)
                {
                    // AMQPNetLite reports "released" for every unsettled delivery of a link that closed or whose
                    // connection dropped. Service Bus keeps those locks until they expire, and so does this broker.
                    return;
                }

                // The client itself gave the message back unprocessed (the SDK does this with messages that
                // arrive after a receive call gave up): available again at once, not counted as a delivery.
                error = store.Release(lockToken, DateTimeOffset.UtcNow);
            }
            else
            {
                error = store.Settle(lockToken, dispositionContext.DeliveryState, DateTimeOffset.UtcNow);
            }
        }

        core.Wake();
        if (dispositionContext.Settled)
        {
            return;
        }

        if (error is null)
        {
            dispositionContext.Complete();
        }
        else
        {
            dispositionContext.Complete(error);
        }
    }

    public override void OnLinkClosed(ListenerLink link, Error error)
    {
        lock (core.Gate)
        {
            // The locks this link holds stay until they expire, as in Service Bus.
            store.RemoveReceiver(this);
            unsettled.Clear();
        }
    }
}
