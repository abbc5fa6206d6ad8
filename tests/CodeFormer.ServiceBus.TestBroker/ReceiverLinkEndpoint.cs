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

    /// <summary>Messages the client will still accept; guarded by the broker gate.</summary>
    public int Credit { get; set; }

    public bool DrainRequested { get; set; }

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
        lock (core.Gate)
        {
            // ListenerLink drops its credit to zero whenever a flow does not extend it; stay in step with it.
            Credit = flowContext.Messages > 0 ? Credit + flowContext.Messages : 0;
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
            if (!unsettled.Remove(dispositionContext.Message, out var lockToken))
            {
                return;
            }

            if (dispositionContext.DeliveryState is Released)
            {
                // AMQPNetLite reports "released" for every unsettled delivery when the client's connection drops.
                // Service Bus keeps such locks until they expire, and so does this broker.
                return;
            }

            error = store.Settle(lockToken, dispositionContext.DeliveryState, DateTimeOffset.UtcNow);
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
