using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using CodeFormer.Testing.ServiceBus;
using Xunit.Abstractions;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

public sealed class BrokerApiTests(ITestOutputHelper output) : BrokerTest
{
    [Fact]
    public void Connection_string_points_the_SDK_at_the_loopback_port_in_emulator_mode()
    {
        var properties = ServiceBusConnectionStringProperties.Parse(Broker.ConnectionString);
        Assert.Equal($"sb://127.0.0.1:{Broker.Port}/", properties.Endpoint.ToString());
        Assert.True(Broker.Port > 0);
        Assert.Contains("UseDevelopmentEmulator=true", Broker.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_brokers_listen_on_different_ports_and_do_not_share_queues()
    {
        await using var other = await ServiceBusTestBroker.StartAsync();
        Assert.NotEqual(Broker.Port, other.Port);
        Broker.CreateQueue("mine");
        Assert.Throws<KeyNotFoundException>(() => other.GetQueue("mine"));
    }

    [Fact]
    public void Invalid_queue_definitions_are_refused_with_the_reason()
    {
        Broker.CreateQueue("jobs");
        Assert.Contains("already exists", Assert.Throws<InvalidOperationException>(() => Broker.CreateQueue("JOBS")).Message, StringComparison.Ordinal);
        Assert.Contains("LockDuration", Assert.Throws<ArgumentOutOfRangeException>(() => Broker.CreateQueue("a", new TestQueueOptions { LockDuration = TimeSpan.Zero })).Message, StringComparison.Ordinal);
        Assert.Contains("MaxDeliveryCount", Assert.Throws<ArgumentOutOfRangeException>(() => Broker.CreateQueue("b", new TestQueueOptions { MaxDeliveryCount = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("DuplicateDetectionWindow", Assert.Throws<ArgumentOutOfRangeException>(() => Broker.CreateQueue("c", new TestQueueOptions { DuplicateDetectionWindow = TimeSpan.Zero })).Message, StringComparison.Ordinal);
        Assert.Contains("'$'", Assert.Throws<ArgumentException>(() => Broker.CreateQueue("x/$deadletterqueue")).Message, StringComparison.Ordinal);
        Assert.Contains("CreateQueue", Assert.Throws<KeyNotFoundException>(() => Broker.GetQueue("nope")).Message, StringComparison.Ordinal);
        Assert.Same(Broker.GetQueue("jobs"), Broker.GetQueue("Jobs"));
    }

    [Fact]
    public async Task WaitUntilIdleAsync_times_out_naming_what_is_left()
    {
        var queue = Broker.CreateQueue("busy");
        await using var sender = Client.CreateSender("busy");
        await sender.SendMessageAsync(new ServiceBusMessage("left over"));

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => queue.WaitUntilIdleAsync(TimeSpan.FromMilliseconds(100)));
        Assert.Contains("'busy'", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("1 active", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deferral_is_refused_with_a_clear_error_and_the_lock_stays_settleable_over_management()
    {
        var queue = Broker.CreateQueue("defer");
        await using var sender = Client.CreateSender("defer");
        await sender.SendMessageAsync(new ServiceBusMessage("x"));
        await using var receiver = Client.CreateReceiver("defer");
        var message = await receiver.ReceiveMessageAsync(Wait);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => receiver.DeferMessageAsync(message));
        Assert.Contains("Deferral is not modelled", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, queue.LockedMessageCount);

        // The link already settled that delivery, so the SDK completes through $management update-disposition.
        await receiver.CompleteMessageAsync(message);
        Assert.Equal(0, queue.LockedMessageCount);
        Assert.Equal(1, queue.CompletedMessageCount);
    }

    [Fact]
    public async Task Settling_over_management_dead_letters_and_abandons_like_the_link_does()
    {
        var queue = Broker.CreateQueue("mgmt-settle");
        await using var sender = Client.CreateSender("mgmt-settle");
        await sender.SendMessagesAsync([new ServiceBusMessage("dead") { MessageId = "dead" }, new ServiceBusMessage("again") { MessageId = "again" }]);
        await using var receiver = Client.CreateReceiver("mgmt-settle");
        var received = await SendTests.ReceiveExactlyAsync(receiver, 2);
        foreach (var message in received)
        {
            // A refused deferral settles the delivery on the link; what follows goes through $management.
            await Assert.ThrowsAnyAsync<Exception>(() => receiver.DeferMessageAsync(message));
        }

        await receiver.DeadLetterMessageAsync(received[0], "Unprocessable", "bad header");
        await receiver.AbandonMessageAsync(received[1], new Dictionary<string, object> { ["note"] = "retry" });

        var dead = Assert.Single(queue.GetDeadLetteredMessages());
        Assert.Equal(("dead", "Unprocessable", "bad header"), (dead.MessageId, dead.DeadLetterReason, dead.DeadLetterErrorDescription));
        var again = await receiver.ReceiveMessageAsync(Wait);
        Assert.Equal("again", again.MessageId);
        Assert.Equal(2, again.DeliveryCount);
        Assert.Equal("retry", again.ApplicationProperties["note"]);
    }

    [Fact]
    public async Task Disposed_broker_refuses_clients_instead_of_leaving_them_hanging()
    {
        Broker.CreateQueue("gone");
        await using var sender = Client.CreateSender("gone");
        await sender.SendMessageAsync(new ServiceBusMessage("before"));

        await Broker.DisposeAsync();

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<Exception>(() => sender.SendMessageAsync(new ServiceBusMessage("after")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the failing send took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_thousand_messages_round_trip_in_order()
    {
        const int count = 1000;
        var queue = Broker.CreateQueue("volume", new TestQueueOptions { LockDuration = TimeSpan.FromSeconds(30) });
        await using var sender = Client.CreateSender("volume");
        await using var receiver = Client.CreateReceiver("volume", new ServiceBusReceiverOptions { PrefetchCount = 100 });
        await sender.SendMessageAsync(new ServiceBusMessage("warm-up"));
        await receiver.CompleteMessageAsync(await receiver.ReceiveMessageAsync(Wait));

        var clock = Stopwatch.StartNew();
        for (var start = 0; start < count; start += 100)
        {
            await sender.SendMessagesAsync(Enumerable.Range(start, 100).Select(i => new ServiceBusMessage($"{i}")));
        }

        var sent = clock.Elapsed;
        var bodies = new List<string>();
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (bodies.Count < count && DateTimeOffset.UtcNow < deadline)
        {
            foreach (var message in await receiver.ReceiveMessagesAsync(100, TimeSpan.FromSeconds(1)))
            {
                await receiver.CompleteMessageAsync(message);
                bodies.Add(message.Body.ToString());
            }
        }

        output.WriteLine($"{count} messages: sent in batches of 100 in {sent.TotalMilliseconds:0} ms, received and completed one by one in {(clock.Elapsed - sent).TotalMilliseconds:0} ms");
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"{i}"), bodies);
        await queue.WaitUntilIdleAsync(Wait);
    }
}
