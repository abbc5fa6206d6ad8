using Azure.Messaging.ServiceBus;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

public sealed class ReceiveModeTests : BrokerTest
{
    [Fact]
    public async Task Receive_and_delete_removes_the_message_as_it_is_delivered()
    {
        var queue = Broker.CreateQueue("rad");
        await using (var sender = Client.CreateSender("rad"))
        {
            await sender.SendMessagesAsync([new ServiceBusMessage("a"), new ServiceBusMessage("b")]);
        }

        await using var receiver = Client.CreateReceiver("rad", new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.ReceiveAndDelete });
        var received = await SendTests.ReceiveExactlyAsync(receiver, 2);

        Assert.Equal(["a", "b"], received.Select(m => m.Body.ToString()));
        Assert.Equal(0, queue.LockedMessageCount);
        await queue.WaitUntilIdleAsync(Wait);
    }

    [Fact]
    public async Task Prefetching_receiver_gets_every_message_and_settles_them()
    {
        var queue = Broker.CreateQueue("prefetch", new TestQueueOptions { LockDuration = TimeSpan.FromSeconds(30) });
        await using (var sender = Client.CreateSender("prefetch"))
        {
            await sender.SendMessagesAsync(Enumerable.Range(0, 20).Select(i => new ServiceBusMessage($"m{i}")));
        }

        await using var receiver = Client.CreateReceiver("prefetch", new ServiceBusReceiverOptions { PrefetchCount = 10 });
        var received = new List<ServiceBusReceivedMessage> { await receiver.ReceiveMessageAsync(Wait) };
        // The prefetched messages are locked on the broker although the application holds only one.
        Assert.True(queue.LockedMessageCount > 1, $"expected prefetch to lock more than one message, saw {queue.LockedMessageCount}");
        await receiver.CompleteMessageAsync(received[0]);

        // The SDK tops its prefetch credit up as messages are settled, so settle each as it arrives.
        var deadline = DateTimeOffset.UtcNow + Wait;
        while (received.Count < 20 && DateTimeOffset.UtcNow < deadline)
        {
            foreach (var message in await receiver.ReceiveMessagesAsync(20 - received.Count, TimeSpan.FromSeconds(1)))
            {
                await receiver.CompleteMessageAsync(message);
                received.Add(message);
            }
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m{i}"), received.Select(m => m.Body.ToString()));
        await queue.WaitUntilIdleAsync(Wait);
        Assert.Equal(20, queue.CompletedMessageCount);
    }

    [Fact]
    public async Task Receiver_that_timed_out_empty_still_gets_messages_sent_later()
    {
        Broker.CreateQueue("idle-then-busy");
        await using var receiver = Client.CreateReceiver("idle-then-busy");
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Empty(await receiver.ReceiveMessagesAsync(5, TimeSpan.FromMilliseconds(200)));
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(200)));

        await using var sender = Client.CreateSender("idle-then-busy");
        await sender.SendMessagesAsync([new ServiceBusMessage("late-1"), new ServiceBusMessage("late-2")]);

        // Not in order: the SDK may release a message that arrives between receive calls, and a released
        // message goes back behind those already on their way, as on Service Bus.
        var received = await SendTests.ReceiveExactlyAsync(receiver, 2);
        Assert.Equal(["late-1", "late-2"], received.Select(m => m.Body.ToString()).Order());
        Assert.All(received, message => Assert.Equal(1, message.DeliveryCount));
    }

    [Fact]
    public async Task Peek_returns_messages_without_locking_them()
    {
        var queue = Broker.CreateQueue("peek");
        await using (var sender = Client.CreateSender("peek"))
        {
            await sender.SendMessagesAsync([new ServiceBusMessage("a") { MessageId = "a" }, new ServiceBusMessage("b") { MessageId = "b" }]);
        }

        await using var receiver = Client.CreateReceiver("peek");
        var peeked = await receiver.PeekMessageAsync();
        Assert.NotNull(peeked);
        Assert.Equal("a", peeked.MessageId);
        var next = await receiver.PeekMessageAsync();
        Assert.Equal("b", next.MessageId);
        Assert.Null(await receiver.PeekMessageAsync());

        var all = await receiver.PeekMessagesAsync(10, fromSequenceNumber: peeked.SequenceNumber);
        Assert.Equal(["a", "b"], all.Select(m => m.MessageId));
        Assert.Equal(0, queue.LockedMessageCount);
        Assert.Equal(2, queue.ActiveMessageCount);
    }
}
