using Azure;
using Azure.Data.Tables;
using Azure.Messaging.EventGrid;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CodeFormer.Functions.Api;
using CodeFormer.Functions.Intake;
using CodeFormer.Functions.Webhooks;
using CodeFormer.Imaging;
using CodeFormer.Service.Testing;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Storage;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using CodeFormer.Testing.ServiceBus;
using Microsoft.Extensions.Options;

namespace CodeFormer.Functions.Tests;

/// <summary>
/// The local stack the functions run on in these tests: a real Azurite (blobs, table, SAS), the Service Bus test broker
/// (the real SDK client talks AMQP to it) and a local CloudEvents receiver for the topic. One per test class.
/// </summary>
public sealed class ServiceStack : IAsyncLifetime
{
    private AzuriteProcess? _azurite;
    private ServiceBusTestBroker? _broker;

    public AzuriteProcess Azurite => _azurite!;
    public ServiceBusTestBroker Broker => _broker!;
    public CloudEventReceiver Topic { get; } = new();
    public ServiceBusClient ServiceBus { get; private set; } = null!;
    public BlobServiceClient Blobs { get; private set; } = null!;
    public TableClient Table { get; private set; } = null!;
    /// <summary>The webhook-notice queue the default <see cref="Api"/> writes to.</summary>
    public QueueClient WebhookNoticeQueue { get; private set; } = null!;
    public TestQueue Queue { get; private set; } = null!;
    public JobsSettings Settings { get; } = new();

    public BlobContainerClient Uploads => Blobs.GetBlobContainerClient(Settings.UploadsContainer);
    public BlobContainerClient Results => Blobs.GetBlobContainerClient(Settings.ResultsContainer);
    public JobStore Jobs => new(Table);
    public TenantStore Tenants => new(Table);

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteProcess.StartAsync();
        _broker = await ServiceBusTestBroker.StartAsync();
        Queue = Broker.CreateQueue(Settings.QueueName, new TestQueueOptions { DuplicateDetectionWindow = TimeSpan.FromMinutes(10) });
        ServiceBus = new ServiceBusClient(Broker.ConnectionString);
        Blobs = Azurite.CreateBlobServiceClient();
        await Uploads.CreateIfNotExistsAsync();
        await Results.CreateIfNotExistsAsync();
        Table = Azurite.CreateTableServiceClient().GetTableClient(Settings.TableName);
        await Table.CreateIfNotExistsAsync();
        WebhookNoticeQueue = Azurite.CreateQueueServiceClient().GetQueueClient(TerminalWebhookNotice.QueueName);
        await WebhookNoticeQueue.CreateIfNotExistsAsync();
    }

    /// <summary>A queue of its own for one test, so it sees only its own notices.</summary>
    public async Task<QueueClient> NewWebhookNoticeQueueAsync()
    {
        var queue = Azurite.CreateQueueServiceClient().GetQueueClient("notices-" + Guid.NewGuid().ToString("N")[..12]);
        await queue.CreateAsync();
        return queue;
    }

    public async Task DisposeAsync()
    {
        await ServiceBus.DisposeAsync();
        await Topic.DisposeAsync();
        if (_broker is not null) { await _broker.DisposeAsync(); }
        if (_azurite is not null) { await _azurite.DisposeAsync(); }
    }

    public JobEventPublisher Events => new(new EventGridPublisherClient(Topic.Endpoint, new AzureKeyCredential(CloudEventReceiver.AccessKey),
        new EventGridPublisherClientOptions { Retry = { MaxRetries = 0 } }));

    public UploadIntakeHandler Intake(ServiceBusSender? sender = null, ImageLimits? limits = null) => new(
        Blobs, Jobs, Tenants, sender ?? ServiceBus.CreateSender(Settings.QueueName), Events, new WebhookUrlPolicy(),
        Options.Create(Settings), limits: limits);

    public JobsApi Api(QueueClient? webhookNotices = null) => new(Jobs, Tenants, new BlobSasIssuer(Blobs), Events,
        new TerminalWebhookQueue(webhookNotices ?? WebhookNoticeQueue), new WebhookUrlPolicy(), Options.Create(Settings));

    public AdminApi Admin() => new(Tenants);

    /// <summary>A fresh tenant (unique id, so tests in one class do not see each other's jobs) and its API key.</summary>
    public async Task<CreatedTenant> NewTenantAsync()
    {
        var id = "t" + Guid.NewGuid().ToString("N")[..12];
        return await Tenants.CreateAsync(id);
    }

    /// <summary>Events the topic received about one job.</summary>
    public IReadOnlyList<Azure.Messaging.CloudEvent> EventsFor(string jobId) =>
        Topic.Events.Where(e => e.Subject?.EndsWith("/jobs/" + jobId, StringComparison.Ordinal) == true).ToList();

    /// <summary>Every message now on the queue for one job (peeked, so they stay).</summary>
    public async Task<IReadOnlyList<ServiceBusReceivedMessage>> PeekMessagesForAsync(string jobId)
    {
        await using var receiver = ServiceBus.CreateReceiver(Settings.QueueName);
        var all = new List<ServiceBusReceivedMessage>();
        long from = 0;
        while (true)
        {
            var batch = await receiver.PeekMessagesAsync(100, from);
            if (batch.Count == 0) { break; }
            all.AddRange(batch);
            from = batch[^1].SequenceNumber + 1;
        }
        return all.Where(m => m.MessageId == jobId).ToList();
    }
}

/// <summary>One stack for all functional tests (starting Azurite costs seconds); tests isolate by tenant.</summary>
[CollectionDefinition(Name)]
public sealed class ServiceStackCollection : ICollectionFixture<ServiceStack>
{
    public const string Name = "Service stack";
}
