namespace CodeFormer.Shared.Settings;

// Bound from the settings of docs/deployment.md "Configuration the apps receive" (Section__key → Section:key).

/// <summary>
/// The data storage account (<c>Storage__blobServiceUri</c>, <c>Storage__tableServiceUri</c>, <c>Storage__queueServiceUri</c>),
/// reached with the app's managed identity. For local development the section's own value may be a connection
/// string instead (<c>Storage=UseDevelopmentStorage=true</c> for Azurite); the blob trigger's
/// <c>Connection = "Storage"</c> reads the same setting.
/// </summary>
public sealed class StorageSettings
{
    public const string SectionName = "Storage";

    public Uri? BlobServiceUri { get; set; }
    public Uri? TableServiceUri { get; set; }
    public Uri? QueueServiceUri { get; set; }

    /// <summary>Local development only: a connection string (the section's value), used when set.</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>The Service Bus namespace (<c>ServiceBusConnection__fullyQualifiedNamespace</c>), or a connection string locally.</summary>
public sealed class ServiceBusSettings
{
    public const string SectionName = "ServiceBusConnection";

    public string? FullyQualifiedNamespace { get; set; }

    /// <summary>Local development only: a connection string (the section's value: the emulator's or the test broker's).</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>Names of the queue, table and containers (<c>Jobs__queueName</c>, …), with the defaults infra/bicep provisions.</summary>
public sealed class JobsSettings
{
    public const string SectionName = "Jobs";

    public string QueueName { get; set; } = "restore-jobs";
    public string TableName { get; set; } = "jobs";
    public string UploadsContainer { get; set; } = "uploads";
    public string ResultsContainer { get; set; } = "results";
    public string ModelsContainer { get; set; } = "models";

    /// <summary>
    /// <c>Jobs__uploadGraceSeconds</c>: how long after its upload URL expired an API job may still be waiting before the
    /// sweep expires it. It covers an upload that started just before the URL expired and is still being written, and
    /// the delay of its BlobCreated event.
    /// </summary>
    public int UploadGraceSeconds { get; set; } = 300;
}

/// <summary>The job-events topic (<c>JobEvents__topicEndpoint</c>).</summary>
public sealed class JobEventsSettings
{
    public const string SectionName = "JobEvents";

    public Uri? TopicEndpoint { get; set; }

    /// <summary>
    /// Local development and tests only: an access key. The deployed topic has local auth off, so production never
    /// sets it and publishes with the managed identity.
    /// </summary>
    public string? TopicKey { get; set; }
}

/// <summary>Webhook rules (<c>Webhooks__allowPrivateAddresses</c>; development only, never set in Azure).</summary>
public sealed class WebhookSettings
{
    public const string SectionName = "Webhooks";

    /// <summary>Allow http:// and loopback/private targets, for a developer's local receiver. Off by default.</summary>
    public bool AllowPrivateAddresses { get; set; }
}
