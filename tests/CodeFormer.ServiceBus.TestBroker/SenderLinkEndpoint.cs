using Amqp;
using Amqp.Framing;
using Amqp.Listener;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>A client's send link on a queue: unpacks batches and enqueues each message.</summary>
internal sealed class SenderLinkEndpoint(BrokerCore core, MessageStore store) : LinkEndpoint
{
    public const int Credit = 100;

    public override void OnMessage(MessageContext messageContext)
    {
        List<byte[]> payloads;
        try
        {
            payloads = Unpack(messageContext.Message);
        }
        catch (Exception exception) when (exception is AmqpException or InvalidOperationException or InvalidCastException)
        {
            messageContext.Complete(new Error(ErrorCode.DecodeError) { Description = $"The test broker could not read the message: {exception.Message}" });
            return;
        }

        lock (core.Gate)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var payload in payloads)
            {
                store.Enqueue(payload, now);
            }
        }

        core.Wake();
        messageContext.Complete();
    }

    public override void OnFlow(FlowContext flowContext)
    {
    }

    public override void OnDisposition(DispositionContext dispositionContext)
    {
    }

    /// <summary>A batch (format 0x80013700) carries each message, encoded, in its own Data section.</summary>
    static List<byte[]> Unpack(Message message)
    {
        if (message.Format != ServiceBusWire.BatchMessageFormat)
        {
            var buffer = message.Encode();
            return [buffer.Buffer.AsSpan(buffer.Offset, buffer.Length).ToArray()];
        }

        return message.BodySection switch
        {
            DataList list => Enumerable.Range(0, list.Count).Select(i => list[i].Binary).ToList(),
            Data single => [single.Binary],
            _ => throw new InvalidOperationException("a batch message must carry its messages in Data sections"),
        };
    }
}
