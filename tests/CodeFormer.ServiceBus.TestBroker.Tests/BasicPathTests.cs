using Azure.Messaging.ServiceBus;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

public sealed class BasicPathTests : BrokerTest
{
    [Fact]
    public async Task Message_sent_is_received_with_its_properties_and_complete_removes_it()
    {
        var queue = Broker.CreateQueue("restore-jobs");
        await using var sender = Client.CreateSender("restore-jobs");
        var sent = new ServiceBusMessage(BinaryData.FromString("{\"job\":42}"))
        {
            MessageId = "job-42",
            CorrelationId = "corr-7",
            Subject = "restore",
            ContentType = "application/json",
        };
        sent.ApplicationProperties["attempt"] = 3;
        sent.ApplicationProperties["tenant"] = "acme";
        await sender.SendMessageAsync(sent);

        await using var receiver = Client.CreateReceiver("restore-jobs");
        var received = await receiver.ReceiveMessageAsync(Wait);

        Assert.NotNull(received);
        Assert.Equal("{\"job\":42}", received.Body.ToString());
        Assert.Equal("job-42", received.MessageId);
        Assert.Equal("corr-7", received.CorrelationId);
        Assert.Equal("restore", received.Subject);
        Assert.Equal("application/json", received.ContentType);
        Assert.Equal(3, received.ApplicationProperties["attempt"]);
        Assert.Equal("acme", received.ApplicationProperties["tenant"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.NotEqual(default, received.LockToken);
        Assert.True(received.SequenceNumber > 0);
        Assert.True(received.LockedUntil > DateTimeOffset.UtcNow);
        Assert.Equal(1, queue.LockedMessageCount);

        await receiver.CompleteMessageAsync(received);

        Assert.Equal(0, queue.LockedMessageCount);
        Assert.Equal(1, queue.CompletedMessageCount);
        await queue.WaitUntilIdleAsync(Wait);
    }
}
