using Azure.Messaging.ServiceBus;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

public sealed class DeadLetterTests : BrokerTest
{
    [Fact]
    public async Task Message_abandoned_MaxDeliveryCount_times_moves_to_the_dead_letter_queue()
    {
        var queue = Broker.CreateQueue("poison", new TestQueueOptions { MaxDeliveryCount = 3 });
        await using (var sender = Client.CreateSender("poison"))
        {
            await sender.SendMessageAsync(new ServiceBusMessage("poison") { MessageId = "p-1" });
        }

        await using var receiver = Client.CreateReceiver("poison");
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var message = await receiver.ReceiveMessageAsync(Wait);
            Assert.Equal(attempt, message.DeliveryCount);
            await receiver.AbandonMessageAsync(message);
        }

        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300)));
        var dead = Assert.Single(queue.GetDeadLetteredMessages());
        Assert.Equal("p-1", dead.MessageId);
        Assert.Equal("MaxDeliveryCountExceeded", dead.DeadLetterReason);
        Assert.Equal(3, dead.DeliveryCount);
        Assert.Equal("poison", System.Text.Encoding.UTF8.GetString(dead.Body!));
        await queue.WaitUntilIdleAsync(Wait);
    }

    [Fact]
    public async Task Lock_expiring_past_MaxDeliveryCount_also_dead_letters()
    {
        var queue = Broker.CreateQueue("expiring-poison", new TestQueueOptions { LockDuration = ShortLock, MaxDeliveryCount = 2 });
        await using (var sender = Client.CreateSender("expiring-poison"))
        {
            await sender.SendMessageAsync(new ServiceBusMessage("never settled"));
        }

        await using var receiver = Client.CreateReceiver("expiring-poison");
        Assert.Equal(1, (await receiver.ReceiveMessageAsync(Wait)).DeliveryCount);
        Assert.Equal(2, (await receiver.ReceiveMessageAsync(Wait)).DeliveryCount);

        await queue.WaitUntilIdleAsync(Wait);
        Assert.Equal("MaxDeliveryCountExceeded", Assert.Single(queue.GetDeadLetteredMessages()).DeadLetterReason);
    }

    [Fact]
    public async Task Explicit_dead_letter_keeps_reason_and_description_and_is_receivable_from_the_dead_letter_subqueue()
    {
        var queue = Broker.CreateQueue("invalid-jobs");
        await using (var sender = Client.CreateSender("invalid-jobs"))
        {
            var job = new ServiceBusMessage("{}") { MessageId = "job-9", CorrelationId = "c-9" };
            job.ApplicationProperties["tenant"] = "acme";
            await sender.SendMessageAsync(job);
        }

        await using var receiver = Client.CreateReceiver("invalid-jobs");
        var message = await receiver.ReceiveMessageAsync(Wait);
        await receiver.DeadLetterMessageAsync(message, "InvalidInput", "The photo is not a JPEG, PNG or WebP.");

        Assert.Equal(0, queue.ActiveMessageCount);
        Assert.Equal(0, queue.LockedMessageCount);
        var inspected = Assert.Single(queue.GetDeadLetteredMessages());
        Assert.Equal("InvalidInput", inspected.DeadLetterReason);
        Assert.Equal("The photo is not a JPEG, PNG or WebP.", inspected.DeadLetterErrorDescription);

        await using var deadLetterReceiver = Client.CreateReceiver("invalid-jobs", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var dead = await deadLetterReceiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(dead);
        Assert.Equal("job-9", dead.MessageId);
        Assert.Equal("c-9", dead.CorrelationId);
        Assert.Equal("acme", dead.ApplicationProperties["tenant"]);
        Assert.Equal("InvalidInput", dead.DeadLetterReason);
        Assert.Equal("The photo is not a JPEG, PNG or WebP.", dead.DeadLetterErrorDescription);
        Assert.Equal("invalid-jobs", dead.DeadLetterSource);

        await deadLetterReceiver.CompleteMessageAsync(dead);
        Assert.Equal(0, queue.DeadLetterMessageCount);
    }

    [Fact]
    public async Task Dead_letter_with_properties_to_modify_applies_them()
    {
        var queue = Broker.CreateQueue("dlq-props");
        await using (var sender = Client.CreateSender("dlq-props"))
        {
            await sender.SendMessageAsync(new ServiceBusMessage("x"));
        }

        await using var receiver = Client.CreateReceiver("dlq-props");
        var message = await receiver.ReceiveMessageAsync(Wait);
        await receiver.DeadLetterMessageAsync(message, new Dictionary<string, object> { ["failedStage"] = "restore" }, "Failed", "stage threw");

        var dead = Assert.Single(queue.GetDeadLetteredMessages());
        Assert.Equal("restore", dead.ApplicationProperties["failedStage"]);
        Assert.Equal("Failed", dead.DeadLetterReason);
    }
}
