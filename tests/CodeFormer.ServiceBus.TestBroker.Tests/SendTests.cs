using System.Diagnostics;
using Azure.Messaging.ServiceBus;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

public sealed class SendTests : BrokerTest
{
    [Fact]
    public async Task Batch_send_delivers_every_message_with_its_own_properties_in_order()
    {
        var queue = Broker.CreateQueue("batch");
        await using var sender = Client.CreateSender("batch");
        using var batch = await sender.CreateMessageBatchAsync();
        for (var i = 0; i < 5; i++)
        {
            var message = new ServiceBusMessage(BinaryData.FromString($"body-{i}")) { MessageId = $"m{i}", Subject = $"s{i}" };
            message.ApplicationProperties["index"] = i;
            Assert.True(batch.TryAddMessage(message));
        }

        await sender.SendMessagesAsync(batch);
        Assert.Equal(5, queue.ActiveMessageCount);

        await using var receiver = Client.CreateReceiver("batch");
        var received = await ReceiveExactlyAsync(receiver, 5);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal($"body-{i}", received[i].Body.ToString());
            Assert.Equal($"m{i}", received[i].MessageId);
            Assert.Equal($"s{i}", received[i].Subject);
            Assert.Equal(i, received[i].ApplicationProperties["index"]);
        }

        Assert.Equal(5, received.Select(m => m.SequenceNumber).Distinct().Count());
        Assert.True(received.Zip(received.Skip(1)).All(pair => pair.First.SequenceNumber < pair.Second.SequenceNumber));
    }

    [Fact]
    public async Task Sending_a_list_of_messages_works_like_a_batch()
    {
        var queue = Broker.CreateQueue("list");
        await using var sender = Client.CreateSender("list");
        await sender.SendMessagesAsync([new ServiceBusMessage("a"), new ServiceBusMessage("b"), new ServiceBusMessage("c")]);
        Assert.Equal(3, queue.ActiveMessageCount);
    }

    [Fact]
    public async Task Batch_size_limit_comes_from_the_broker_attach()
    {
        Broker.CreateQueue("sized");
        await using var sender = Client.CreateSender("sized");
        using var batch = await sender.CreateMessageBatchAsync();
        Assert.Equal(256 * 1024, batch.MaxSizeInBytes);
        Assert.False(batch.TryAddMessage(new ServiceBusMessage(new byte[300 * 1024])));
    }

    [Fact]
    public async Task Scheduled_message_stays_invisible_until_its_enqueue_time()
    {
        var queue = Broker.CreateQueue("scheduled");
        await using var sender = Client.CreateSender("scheduled");
        // Open the connection and link first, so the time it takes on a busy machine does not eat the delay.
        await sender.ScheduleMessageAsync(new ServiceBusMessage("warm-up"), DateTimeOffset.UtcNow.AddHours(1));
        var due = DateTimeOffset.UtcNow.AddSeconds(2);
        await sender.SendMessageAsync(new ServiceBusMessage("later") { ScheduledEnqueueTime = due });

        Assert.Equal(0, queue.ActiveMessageCount);
        Assert.Equal(2, queue.ScheduledMessageCount);
        await using var receiver = Client.CreateReceiver("scheduled");
        // Look for it while it must still be hidden (a slow first send on a busy machine eats into the 2 s).
        var hiddenFor = due - DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(300);
        var received = hiddenFor > TimeSpan.FromMilliseconds(100) ? await receiver.ReceiveMessageAsync(hiddenFor) : null;
        received ??= await receiver.ReceiveMessageAsync(Wait);

        Assert.NotNull(received);
        Assert.Equal("later", received.Body.ToString());
        // The broker stamps LockedUntil = moment of delivery + LockDuration (1 minute here), to the millisecond.
        var deliveredAt = received.LockedUntil - queue.Options.LockDuration;
        Assert.True(deliveredAt >= due - TimeSpan.FromMilliseconds(2), $"delivered at {deliveredAt:O}, scheduled for {due:O}");
        Assert.Equal(1, queue.ScheduledMessageCount);
    }

    [Fact]
    public async Task ScheduleMessageAsync_returns_a_sequence_number_that_cancels_it()
    {
        var queue = Broker.CreateQueue("schedule-api");
        await using var sender = Client.CreateSender("schedule-api");
        var kept = await sender.ScheduleMessageAsync(new ServiceBusMessage("kept"), DateTimeOffset.UtcNow.AddSeconds(1.5));
        var cancelled = await sender.ScheduleMessageAsync(new ServiceBusMessage("cancelled"), DateTimeOffset.UtcNow.AddSeconds(1.5));
        Assert.NotEqual(kept, cancelled);
        // Either still scheduled or already due, depending on how fast this machine is today.
        Assert.Equal(2, queue.ScheduledMessageCount + queue.ActiveMessageCount);

        await sender.CancelScheduledMessageAsync(cancelled);
        Assert.Equal(1, queue.ScheduledMessageCount + queue.ActiveMessageCount);

        await using var receiver = Client.CreateReceiver("schedule-api");
        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.Equal("kept", received.Body.ToString());
        Assert.Equal(kept, received.SequenceNumber);
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Sending_to_a_queue_that_does_not_exist_fails_with_entity_not_found()
    {
        await using var sender = Client.CreateSender("missing");
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("x")));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, error.Reason);
    }

    internal static async Task<List<ServiceBusReceivedMessage>> ReceiveExactlyAsync(ServiceBusReceiver receiver, int count)
    {
        var received = new List<ServiceBusReceivedMessage>();
        var clock = Stopwatch.StartNew();
        while (received.Count < count && clock.Elapsed < Wait)
        {
            received.AddRange(await receiver.ReceiveMessagesAsync(count - received.Count, TimeSpan.FromSeconds(1)));
        }

        Assert.Equal(count, received.Count);
        return received;
    }
}
