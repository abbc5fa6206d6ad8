using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using CodeFormer.Service.Testing;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Tenants;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.GpuRunner.Testing;

/// <summary>
/// The worker's surroundings on one machine: Azurite (blobs, the jobs table), the Service Bus test broker, a CloudEvents
/// receiver for the job-events topic, and a models container holding a tiny random-weight CodeFormer, the real YuNet
/// detector and their SHA256SUMS. Lanes (one queue, one table, own containers) keep tests and soak runs apart.
/// Shared by the worker tests and <c>bench … soak</c>.
/// </summary>
public sealed class LocalStack : IAsyncDisposable
{
    public const string ModelsContainer = "models";
    public const string TinyModel = "tiny.onnx";
    public const string Detector = "face_detection_yunet_2023mar.onnx";
    private int _lanes;

    private LocalStack(AzuriteProcess azurite, ServiceBusTestBroker broker, CloudEventReceiver events)
    {
        Azurite = azurite;
        Broker = broker;
        Events = events;
        Blobs = azurite.CreateBlobServiceClient();
        Tables = azurite.CreateTableServiceClient();
        ServiceBus = new ServiceBusClient(broker.ConnectionString);
    }

    public AzuriteProcess Azurite { get; }
    public ServiceBusTestBroker Broker { get; }
    public CloudEventReceiver Events { get; }
    public BlobServiceClient Blobs { get; }
    public TableServiceClient Tables { get; }
    public ServiceBusClient ServiceBus { get; }

    /// <param name="detectorPath">The YuNet ONNX file (../shared/assets/models/face_detection_yunet_2023mar.onnx).</param>
    public static async Task<LocalStack> StartAsync(string detectorPath)
    {
        var azurite = await AzuriteProcess.StartAsync();
        var broker = await ServiceBusTestBroker.StartAsync();
        var stack = new LocalStack(azurite, broker, new CloudEventReceiver());
        await stack.UploadModelsAsync(detectorPath);
        return stack;
    }

    /// <summary>The tiny network (deterministic weights), the detector and the manifest, as an operator would upload them.</summary>
    private async Task UploadModelsAsync(string detectorPath)
    {
        var container = Blobs.GetBlobContainerClient(ModelsContainer);
        await container.CreateIfNotExistsAsync();
        var tiny = CodeFormerArchitecture.Tiny;
        var tinyPath = Path.Combine(Path.GetTempPath(), $"codeformer-tiny-{Guid.NewGuid():N}.onnx");
        CodeFormerOnnxExporter.WriteFile(tiny, RandomWeights.Create(new ParameterLayout(new NetworkLayout(tiny)), 7), tinyPath, new CodeFormerExportOptions());
        try
        {
            var manifest = new StringBuilder();
            foreach (var (name, path) in new[] { (TinyModel, tinyPath), (Detector, detectorPath) })
            {
                var bytes = await File.ReadAllBytesAsync(path);
                await container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
                manifest.Append(Convert.ToHexStringLower(SHA256.HashData(bytes))).Append("  ").Append(name).Append('\n');
            }
            await container.GetBlobClient("SHA256SUMS").UploadAsync(BinaryData.FromString(manifest.ToString()), overwrite: true);
        }
        finally
        {
            File.Delete(tinyPath);
        }
    }

    /// <summary>A queue, a jobs table, uploads and results containers and a tenant of their own.</summary>
    public async Task<Lane> CreateLaneAsync(TestQueueOptions queueOptions)
    {
        var n = Interlocked.Increment(ref _lanes);
        var queue = Broker.CreateQueue($"restore-jobs-{n}", queueOptions);
        var table = Tables.GetTableClient($"jobs{n}");
        await table.CreateIfNotExistsAsync();
        var uploads = Blobs.GetBlobContainerClient($"uploads-{n}");
        var results = Blobs.GetBlobContainerClient($"results-{n}");
        await uploads.CreateIfNotExistsAsync();
        await results.CreateIfNotExistsAsync();
        var tenants = new TenantStore(table);
        var tenant = await tenants.CreateAsync($"tenant-{n}");
        return new Lane(this, queue, table, uploads, results, tenant);
    }

    public async ValueTask DisposeAsync()
    {
        await ServiceBus.DisposeAsync();
        await Events.DisposeAsync();
        await Broker.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

/// <summary>One isolated set of queue, table, containers and tenant, and the worker settings that point at them.</summary>
public sealed class Lane(LocalStack stack, TestQueue queue, TableClient table, BlobContainerClient uploads, BlobContainerClient results, CreatedTenant tenant)
{
    public LocalStack Stack => stack;
    public TestQueue Queue => queue;
    public TableClient Table => table;
    public BlobContainerClient Uploads => uploads;
    public BlobContainerClient Results => results;
    public string TenantId => tenant.Tenant.TenantId;
    public string WebhookSecret => tenant.WebhookSecret;
    public JobStore Jobs { get; } = new(table);

    /// <summary>The worker's configuration (keys as .NET configuration reads them; a child process gets them as A__b variables).</summary>
    public Dictionary<string, string?> WorkerSettings(string modelsDirectory, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage"] = stack.Azurite.ConnectionString,
            ["ServiceBusConnection"] = stack.Broker.ConnectionString,
            ["Jobs:queueName"] = queue.Name,
            ["Jobs:tableName"] = table.Name,
            ["Jobs:uploadsContainer"] = uploads.Name,
            ["Jobs:resultsContainer"] = results.Name,
            ["Jobs:modelsContainer"] = LocalStack.ModelsContainer,
            ["JobEvents:topicEndpoint"] = stack.Events.Endpoint.ToString(),
            ["JobEvents:topicKey"] = CloudEventReceiver.AccessKey,
            ["Webhooks:allowPrivateAddresses"] = "true",
            ["Health:port"] = "0",
            ["Engine:device"] = "cpu",
            ["Engine:modelPath"] = LocalStack.TinyModel,
            ["Engine:detectorModelPath"] = LocalStack.Detector,
            ["Engine:intraOpThreads"] = "1",
            ["Worker:modelsDirectory"] = modelsDirectory,
            ["Worker:maxDeliveryCount"] = queue.Options.MaxDeliveryCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Worker:retryDelay"] = "00:00:00.100",
            ["Worker:maxRetryDelay"] = "00:00:00.200",
            ["Worker:webhookRetryDelay"] = "00:00:00.050",
            ["Worker:shutdownGracePeriod"] = "00:00:10",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    /// <summary>
    /// Submits a photo the way the intake does (the job row, Queued, with the upload's facts; the upload; the queue
    /// message with MessageId = job id), optionally carrying the enqueuer's W3C trace context.
    /// </summary>
    public async Task<JobRecord> SubmitAsync(byte[] photo, JobOptions? options = null, string? traceparent = null)
    {
        var jobId = JobIds.NewRandom();
        var now = DateTimeOffset.UtcNow;
        var blobName = $"{TenantId}/photo-{jobId}";
        await uploads.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(photo));
        var job = new JobRecord
        {
            JobId = jobId,
            TenantId = TenantId,
            State = JobState.Queued,
            Origin = JobOrigin.DirectUpload,
            Options = options ?? JobOptions.Default,
            CreatedAt = now,
            UpdatedAt = now,
            InputContainer = uploads.Name,
            InputBlobName = blobName,
            InputBytes = photo.Length,
            IntakeCompleted = true,
        };
        var (created, _) = await Jobs.AddOrGetAsync(job);
        await SendAsync(created, traceparent);
        return created;
    }

    /// <summary>Sends (again) the queue message of a job.</summary>
    public async Task SendAsync(JobRecord job, string? traceparent = null)
    {
        var message = RestoreJobMessage.For(job, DateTimeOffset.UtcNow).ToServiceBusMessage();
        if (traceparent is not null)
        {
            message.ApplicationProperties["traceparent"] = traceparent;
        }
        await using var sender = stack.ServiceBus.CreateSender(queue.Name);
        await sender.SendMessageAsync(message);
    }

    public Task<JobRecord?> GetJobAsync(string jobId) => Jobs.GetAsync(TenantId, jobId);

    /// <summary>Usage rows recorded for the job (any month): exactly one for a succeeded job.</summary>
    public async Task<int> UsageRowsAsync(string jobId)
    {
        var count = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == TenantId))
        {
            if (row.RowKey.StartsWith(JobTableKeys.UsagePrefix, StringComparison.Ordinal) && row.RowKey.EndsWith("|" + jobId, StringComparison.Ordinal))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>The blobs under results/{tenant}/{jobId}.* (the result and its report).</summary>
    public async Task<IReadOnlyList<string>> ResultBlobsAsync(string jobId)
    {
        var names = new List<string>();
        await foreach (var blob in results.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{TenantId}/{jobId}.", default))
        {
            names.Add(blob.Name);
        }
        return names;
    }

    /// <summary>Waits until the job is in a terminal state (or the timeout passes) and returns it.</summary>
    public async Task<JobRecord> WaitForTerminalAsync(string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await GetJobAsync(jobId) ?? throw new InvalidOperationException($"Job {jobId} does not exist.");
            if (job.State.IsTerminal() || DateTime.UtcNow > deadline)
            {
                return job;
            }
            await Task.Delay(100);
        }
    }
}
