using Azure.Messaging.ServiceBus;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

/// <summary>A fresh broker and SDK client per test, so no test sees another's messages or locks.</summary>
public abstract class BrokerTest : IAsyncLifetime
{
    protected static readonly TimeSpan ShortLock = TimeSpan.FromSeconds(1);
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

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
