// A TEST DOUBLE OF THE AZURE SERVICE BUS AMQP PROTOCOL — NOT SERVICE BUS.
//
// ServiceBusTestBroker listens on 127.0.0.1 (a free port) and speaks enough AMQP 1.0, in Service Bus's dialect,
// for the unchanged Azure.Messaging.ServiceBus client (ServiceBusClient, Sender, Receiver, ServiceBusProcessor)
// to run against it in tests, where no real namespace or emulator is available.
//
// Modelled (each covered by a test against the real SDK in CodeFormer.ServiceBus.TestBroker.Tests):
//   queues; single and batch send; every message property and the body round-trip verbatim;
//   ScheduledEnqueueTime (on the message or via ScheduleMessageAsync; CancelScheduledMessageAsync);
//   peek-lock with lock tokens, LockedUntil, complete, abandon (with propertiesToModify) and dead-letter, on the
//   link or over NAME/$management (update-disposition, which the SDK uses when the link no longer knows the
//   delivery); lock expiry and redelivery with DeliveryCount + 1, MessageLockLost for settling or renewing an
//   expired lock;
//   locks of a receiver whose connection is gone stay until they expire (they are not released early);
//   MaxDeliveryCount → NAME/$deadletterqueue with "MaxDeliveryCountExceeded", explicit dead-letter with reason
//   and description, receiving from the dead-letter queue; renew-lock over NAME/$management;
//   duplicate detection by MessageId within a window; receive-and-delete; prefetch; peek.
//
// Not modelled: topics and subscriptions, sessions, deferral (refused with a clear error), transactions, message time-to-live and expiry,
// auto-forwarding, size quotas and throttling, authorisation (every SAS token is accepted), TLS, persistence
// across restarts, partitioning. Ordering is FIFO by sequence number, like a non-partitioned queue; an
// abandoned or expired message goes back to its original place in that order.

using System.Net;
using System.Net.Sockets;
using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Sasl;
using Amqp.Types;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// A test double of the Azure Service Bus AMQP protocol (not Service Bus): an in-process AMQP 1.0 listener on
/// 127.0.0.1 that the real Azure.Messaging.ServiceBus client talks to unchanged. See the comment at the top of
/// this file and README.md for what it models and what it does not.
/// </summary>
/// <example>
/// <code>
/// await using var broker = await ServiceBusTestBroker.StartAsync();
/// var queue = broker.CreateQueue("restore-jobs", new TestQueueOptions { LockDuration = TimeSpan.FromSeconds(2) });
/// await using var client = new ServiceBusClient(broker.ConnectionString);
/// </code>
/// </example>
public sealed class ServiceBusTestBroker : IAsyncDisposable
{
    const int PortAttempts = 5;
    readonly ContainerHost host;
    readonly BrokerCore core;
    readonly CancellationTokenSource stopping = new();
    readonly Task pump;
    readonly Dictionary<string, TestQueue> queues = new(StringComparer.OrdinalIgnoreCase);
    int disposed;

    ServiceBusTestBroker(ContainerHost host, BrokerCore core, int port)
    {
        this.host = host;
        this.core = core;
        Port = port;
        pump = Task.Run(() => core.RunPumpAsync(stopping.Token));
    }

    /// <summary>The loopback port the broker listens on.</summary>
    public int Port { get; }

    /// <summary>A connection string for <c>new ServiceBusClient(...)</c>: plain AMQP to this broker, any key accepted.</summary>
    public string ConnectionString =>
        $"Endpoint=sb://127.0.0.1:{Port};SharedAccessKeyName=test;SharedAccessKey=test;UseDevelopmentEmulator=true";

    /// <summary>Starts a broker on a free loopback port.</summary>
    public static Task<ServiceBusTestBroker> StartAsync()
    {
        ListenerLinkCredit.EnsureSupported();
        for (var attempt = 1; ; attempt++)
        {
            var port = FindFreePort();
            var core = new BrokerCore();
            var host = CreateHost(core, port);
            try
            {
                host.Open();
                return Task.FromResult(new ServiceBusTestBroker(host, core, port));
            }
            catch (SocketException) when (attempt < PortAttempts)
            {
                // Another process took the port between the probe and the bind; try another.
                host.Close();
            }
        }
    }

    /// <summary>
    /// Creates a queue (and its dead-letter queue, <c>NAME/$deadletterqueue</c>). Options default to Service Bus's.
    /// </summary>
    public TestQueue CreateQueue(string name, TestQueueOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var address = ServiceBusWire.NormalizeAddress(name);
        if (address.Contains('$', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Queue name '{name}' may not contain '$': those paths are the broker's own nodes.", nameof(name));
        }

        options ??= new TestQueueOptions();
        options.Validate(address);
        lock (core.Gate)
        {
            if (queues.ContainsKey(address))
            {
                throw new InvalidOperationException($"Queue '{address}' already exists on this test broker.");
            }

            var deadLetterQueue = new MessageStore(core, address + ServiceBusWire.DeadLetterQueueSuffix, address, options, deadLetterStore: null);
            var queue = new MessageStore(core, address, address, options, deadLetterQueue);
            core.AddStore(queue);
            core.AddStore(deadLetterQueue);
            host.RegisterRequestProcessor(queue.Address + ServiceBusWire.ManagementSuffix, new ManagementProcessor(core, queue));
            host.RegisterRequestProcessor(deadLetterQueue.Address + ServiceBusWire.ManagementSuffix, new ManagementProcessor(core, deadLetterQueue));
            var testQueue = new TestQueue(core, queue, deadLetterQueue);
            queues.Add(address, testQueue);
            return testQueue;
        }
    }

    /// <summary>The queue created earlier under <paramref name="name"/>.</summary>
    public TestQueue GetQueue(string name)
    {
        lock (core.Gate)
        {
            return queues.TryGetValue(ServiceBusWire.NormalizeAddress(name), out var queue)
                ? queue
                : throw new KeyNotFoundException($"No queue '{name}' on this test broker; create it with CreateQueue first.");
        }
    }

    /// <summary>Stops listening, closes every client connection and stops the pump.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        host.Close();
        await pump.ConfigureAwait(false);
        stopping.Dispose();
    }

    static ContainerHost CreateHost(BrokerCore core, int port)
    {
        var host = new ContainerHost(new Address(IPAddress.Loopback.ToString(), port, null, null, "/", "amqp"));
        var listener = host.Listeners[0];
        // The SDK offers only MSSBCBS (it then authorises over $cbs); accept it like ANONYMOUS.
        listener.SASL.EnableMechanism(new Symbol("MSSBCBS"), SaslProfile.Anonymous);
        listener.SASL.EnableAnonymousMechanism = true;
        listener.HandlerFactory = _ => core.DeliveryTags;
        host.AddressResolver = (_, attach) => ServiceBusWire.NormalizeAddress(
            attach.Role ? (attach.Source as Source)?.Address : (attach.Target as Target)?.Address);
        host.RegisterRequestProcessor(ServiceBusWire.CbsAddress, new CbsProcessor());
        host.RegisterLinkProcessor(new EntityLinkProcessor(core));
        return host;
    }

    static int FindFreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
