using Azure.Messaging.ServiceBus;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

public sealed class DuplicateDetectionTests : BrokerTest
{
    [Fact]
    public async Task Same_MessageId_within_the_window_is_acknowledged_but_dropped()
    {
        var queue = Broker.CreateQueue("dedup", new TestQueueOptions { DuplicateDetectionWindow = TimeSpan.FromMinutes(10) });
        await using var sender = Client.CreateSender("dedup");
        await sender.SendMessageAsync(new ServiceBusMessage("first") { MessageId = "job-1" });
        await sender.SendMessageAsync(new ServiceBusMessage("second") { MessageId = "job-1" });
        await sender.SendMessageAsync(new ServiceBusMessage("other") { MessageId = "job-2" });

        Assert.Equal(2, queue.ActiveMessageCount);
        Assert.Equal(1, queue.DroppedDuplicateCount);
        await using var receiver = Client.CreateReceiver("dedup");
        var received = await SendTests.ReceiveExactlyAsync(receiver, 2);
        Assert.Equal(["first", "other"], received.Select(m => m.Body.ToString()));
    }

    [Fact]
    public async Task Same_MessageId_after_the_window_is_accepted_again()
    {
        var queue = Broker.CreateQueue("dedup-window", new TestQueueOptions { DuplicateDetectionWindow = TimeSpan.FromMilliseconds(400) });
        await using var sender = Client.CreateSender("dedup-window");
        await sender.SendMessageAsync(new ServiceBusMessage("first") { MessageId = "job-1" });
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        await sender.SendMessageAsync(new ServiceBusMessage("again") { MessageId = "job-1" });

        Assert.Equal(2, queue.ActiveMessageCount);
        Assert.Equal(0, queue.DroppedDuplicateCount);
    }

    [Fact]
    public async Task Without_a_window_duplicates_are_kept()
    {
        var queue = Broker.CreateQueue("no-dedup");
        await using var sender = Client.CreateSender("no-dedup");
        await sender.SendMessageAsync(new ServiceBusMessage("first") { MessageId = "job-1" });
        await sender.SendMessageAsync(new ServiceBusMessage("second") { MessageId = "job-1" });
        Assert.Equal(2, queue.ActiveMessageCount);
    }
}
