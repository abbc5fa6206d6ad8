using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

public sealed class ProcessorTests : BrokerTest
{
    [Fact]
    public async Task Processor_with_MaxConcurrentCalls_handles_messages_in_parallel_and_completes_all()
    {
        var queue = Broker.CreateQueue("parallel", new TestQueueOptions { LockDuration = TimeSpan.FromSeconds(30) });
        await using (var sender = Client.CreateSender("parallel"))
        {
            await sender.SendMessagesAsync(Enumerable.Range(0, 16).Select(i => new ServiceBusMessage($"m{i}") { MessageId = $"m{i}" }));
        }

        var handled = new ConcurrentDictionary<string, int>();
        var running = 0;
        var mostAtOnce = 0;
        await using var processor = Client.CreateProcessor("parallel", new ServiceBusProcessorOptions { MaxConcurrentCalls = 4 });
        processor.ProcessMessageAsync += async args =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostAtOnce, now);
            await Task.Delay(300);
            Interlocked.Decrement(ref running);
            handled.AddOrUpdate(args.Message.MessageId, 1, (_, n) => n + 1);
        };
        processor.ProcessErrorAsync += args => Task.FromException(args.Exception);

        await processor.StartProcessingAsync();
        await queue.WaitUntilIdleAsync(TimeSpan.FromSeconds(10));
        await processor.StopProcessingAsync();

        Assert.Equal(16, handled.Count);
        Assert.All(handled.Values, count => Assert.Equal(1, count));
        Assert.InRange(mostAtOnce, 2, 4);
        Assert.Equal(16, queue.CompletedMessageCount);
    }

    [Fact]
    public async Task Processor_auto_lock_renewal_holds_a_message_past_its_lock_duration()
    {
        // 2 s, not 1 s: the SDK renews half-way to expiry, and a loaded 2-core machine can stall longer than 0.5 s.
        var lockDuration = TimeSpan.FromSeconds(2);
        var queue = Broker.CreateQueue("slow", new TestQueueOptions { LockDuration = lockDuration });
        await using (var sender = Client.CreateSender("slow"))
        {
            await sender.SendMessageAsync(new ServiceBusMessage("slow job"));
        }

        var deliveries = new ConcurrentBag<int>();
        var errors = new ConcurrentBag<Exception>();
        await using var processor = Client.CreateProcessor("slow", new ServiceBusProcessorOptions
        {
            MaxConcurrentCalls = 2,
            MaxAutoLockRenewalDuration = TimeSpan.FromMinutes(1),
        });
        processor.ProcessMessageAsync += async args =>
        {
            deliveries.Add(args.Message.DeliveryCount);
            await Task.Delay(2.25 * lockDuration);
        };
        processor.ProcessErrorAsync += args =>
        {
            errors.Add(new InvalidOperationException($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {args.ErrorSource}", args.Exception));
            return Task.CompletedTask;
        };

        await processor.StartProcessingAsync();
        await queue.WaitUntilIdleAsync(TimeSpan.FromSeconds(10));
        await processor.StopProcessingAsync();

        Assert.Empty(errors);
        Assert.Equal([1], deliveries);
        Assert.Equal(1, queue.CompletedMessageCount);
    }

    [Fact]
    public async Task Processor_without_lock_renewal_sees_the_message_again_after_the_lock_expires()
    {
        // The control for the test above: the same slow handler without renewal loses its lock.
        var queue = Broker.CreateQueue("slow-unrenewed", new TestQueueOptions { LockDuration = ShortLock });
        await using (var sender = Client.CreateSender("slow-unrenewed"))
        {
            await sender.SendMessageAsync(new ServiceBusMessage("slow job"));
        }

        var deliveries = new ConcurrentBag<int>();
        await using var processor = Client.CreateProcessor("slow-unrenewed", new ServiceBusProcessorOptions
        {
            MaxConcurrentCalls = 2,
            MaxAutoLockRenewalDuration = TimeSpan.Zero,
        });
        processor.ProcessMessageAsync += async args =>
        {
            deliveries.Add(args.Message.DeliveryCount);
            await Task.Delay(3 * ShortLock);
        };
        processor.ProcessErrorAsync += _ => Task.CompletedTask;

        await processor.StartProcessingAsync();
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
        while (!deliveries.Contains(2) && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await processor.StopProcessingAsync();
        Assert.Contains(2, deliveries);
    }

    static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
