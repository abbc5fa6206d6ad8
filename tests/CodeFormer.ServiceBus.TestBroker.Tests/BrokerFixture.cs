using Azure.Messaging.ServiceBus;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

/// <summary>A fresh broker and SDK client per test, so no test sees another's messages or locks.</summary>
public abstract class BrokerTest : IAsyncLifetime
{
    protected static readonly TimeSpan ShortLock = TimeSpan.FromSeconds(1);
    // An upper bound only: passing tests never wait it out. Generous, because the shared 2-core machine
    // has been seen at a load average near 40, where opening the first link alone can take seconds.
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    protected ServiceBusTestBroker Broker { get; private set; } = null!;

    protected ServiceBusClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Broker = await ServiceBusTestBroker.StartAsync();
        Client = NewClient();
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await Broker.DisposeAsync();
    }

    protected ServiceBusClient NewClient() => new(Broker.ConnectionString, new ServiceBusClientOptions
    {
        // Fail fast: a test broker answers at once or not at all.
        RetryOptions = new ServiceBusRetryOptions { MaxRetries = 0, TryTimeout = TimeSpan.FromSeconds(10) },
    });
}
