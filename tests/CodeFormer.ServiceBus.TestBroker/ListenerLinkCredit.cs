using System.Reflection;
using Amqp;
using Amqp.Listener;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// Works around AMQPNetLite 2.5.5's sender-side credit accounting. <c>ListenerLink.OnFlow</c> sets the link's
/// credit to zero whenever a flow does not raise the receiver's limit (delta &lt;= 0), although such a flow
/// leaves the credit as it was. The SDK sends exactly that flow to drain (same credit, drain = true) after a
/// receive that found nothing; the link then answers the drain without advancing its delivery-count, and the
/// SDK's receiver never asks for messages again (Receiver_that_timed_out_empty_still_gets_messages_sent_later
/// fails without this). No public member sets a sending link's credit without also sending a frame, so this
/// puts back the credit the flow really left, under the link's own lock.
/// </summary>
internal static class ListenerLinkCredit
{
    const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic;
    static readonly FieldInfo Credit = Find(typeof(ListenerLink).GetField("credit", Instance), "ListenerLink.credit");
    static readonly FieldInfo DeliveryCount = Find(typeof(ListenerLink).GetField("deliveryCount", Instance), "ListenerLink.deliveryCount");
    static readonly FieldInfo SequenceValue = Find(DeliveryCount.FieldType.GetField("sequenceNumber", Instance), "SequenceNumber.sequenceNumber");
    static readonly PropertyInfo Lock = typeof(Link).GetProperty("ThisLock", Instance)
        ?? throw Missing("Link.ThisLock");

    /// <summary>Fails at broker start, not mid-test, if an AMQPNetLite upgrade renamed what this relies on.</summary>
    public static void EnsureSupported() => _ = Lock;

    /// <summary>
    /// Sets the link's credit so that its delivery-count plus credit equals <paramref name="receiverLimit"/>
    /// (the receiver's delivery-count plus link-credit from its last flow); returns the limit now in force.
    /// </summary>
    public static int Restore(ListenerLink link, int receiverLimit)
    {
        lock (Lock.GetValue(link)!)
        {
            var deliveryCount = (int)SequenceValue.GetValue(DeliveryCount.GetValue(link))!;
            var credit = Math.Max(0, unchecked(receiverLimit - deliveryCount));
            Credit.SetValue(link, (uint)credit);
            return unchecked(deliveryCount + credit);
        }
    }

    static FieldInfo Find(FieldInfo? field, string name) => field ?? throw Missing(name);

    static InvalidOperationException Missing(string name) => new(
        $"AMQPNetLite no longer has the member {name} that the Service Bus test broker's credit fix relies on; " +
        "re-check ListenerLink.OnFlow in the new version and adapt ListenerLinkCredit.");
}
