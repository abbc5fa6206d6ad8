using Azure;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Messaging.EventGrid;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Storage;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CodeFormer.Shared.Settings;

/// <summary>
/// Registers the Azure clients and the service's building blocks from configuration, the same way in both hosts.
/// In Azure every client authenticates with <see cref="DefaultAzureCredential"/> (the user-assigned identity named by
/// AZURE_CLIENT_ID); locally, a connection string in the section's own value (Azurite, the Service Bus emulator or
/// test broker) takes precedence.
/// </summary>
public static class ServiceRegistration
{
    public static IServiceCollection AddCodeFormerService(this IServiceCollection services, IConfiguration configuration)
    {
        var storage = BindStorage(configuration);
        var serviceBus = BindServiceBus(configuration);
        var events = configuration.GetSection(JobEventsSettings.SectionName).Get<JobEventsSettings>() ?? new JobEventsSettings();

        services.AddOptions<JobsSettings>().Bind(configuration.GetSection(JobsSettings.SectionName));
        services.AddOptions<WebhookSettings>().Bind(configuration.GetSection(WebhookSettings.SectionName));
        services.AddSingleton(Options.Create(storage));
        services.AddSingleton(Options.Create(serviceBus));
        services.AddSingleton(Options.Create(events));
        services.AddSingleton(TimeProvider.System);

        services.AddAzureClients(clients =>
        {
            var clientId = configuration["AZURE_CLIENT_ID"];
            clients.UseCredential(new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId }));

            clients.AddClient<BlobServiceClient, BlobClientOptions>((options, credential) =>
                storage.ConnectionString is { Length: > 0 } cs ? new BlobServiceClient(cs, options)
                : new BlobServiceClient(storage.BlobServiceUri ?? throw Missing("Storage__blobServiceUri"), credential, options));
            clients.AddClient<TableServiceClient, TableClientOptions>((options, credential) =>
                storage.ConnectionString is { Length: > 0 } cs ? new TableServiceClient(cs, options)
                : new TableServiceClient(storage.TableServiceUri ?? throw Missing("Storage__tableServiceUri"), credential, options));
            // Base64 messages: what the Functions queue trigger reads by default (host.json messageEncoding).
            clients.AddClient<QueueServiceClient, QueueClientOptions>((options, credential) =>
            {
                options.MessageEncoding = QueueMessageEncoding.Base64;
                return storage.ConnectionString is { Length: > 0 } cs ? new QueueServiceClient(cs, options)
                    : new QueueServiceClient(storage.QueueServiceUri ?? throw Missing("Storage__queueServiceUri"), credential, options);
            });
            clients.AddClient<ServiceBusClient, ServiceBusClientOptions>((options, credential) =>
                serviceBus.ConnectionString is { Length: > 0 } cs ? new ServiceBusClient(cs, options)
                : new ServiceBusClient(serviceBus.FullyQualifiedNamespace ?? throw Missing("ServiceBusConnection__fullyQualifiedNamespace"), credential, options));
            clients.AddClient<EventGridPublisherClient, EventGridPublisherClientOptions>((options, credential) =>
            {
                var endpoint = events.TopicEndpoint ?? throw Missing("JobEvents__topicEndpoint");
                return events.TopicKey is { Length: > 0 } key
                    ? new EventGridPublisherClient(endpoint, new AzureKeyCredential(key), options)
                    : new EventGridPublisherClient(endpoint, credential, options);
            });
        });

        services.AddSingleton(sp =>
        {
            var jobs = sp.GetRequiredService<IOptions<JobsSettings>>().Value;
            return sp.GetRequiredService<TableServiceClient>().GetTableClient(jobs.TableName);
        });
        services.AddSingleton(sp => new JobStore(sp.GetRequiredService<TableClient>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new TenantStore(sp.GetRequiredService<TableClient>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new BlobSasIssuer(sp.GetRequiredService<BlobServiceClient>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new JobEventPublisher(sp.GetRequiredService<EventGridPublisherClient>()));
        services.AddSingleton(sp => new WebhookUrlPolicy(sp.GetRequiredService<IOptions<WebhookSettings>>().Value.AllowPrivateAddresses));
        services.AddSingleton(sp =>
        {
            var jobs = sp.GetRequiredService<IOptions<JobsSettings>>().Value;
            return sp.GetRequiredService<ServiceBusClient>().CreateSender(jobs.QueueName);
        });
        return services;
    }

    /// <summary>The data account: <c>Storage</c> as a connection string (local) or <c>Storage__blobServiceUri</c> etc.</summary>
    public static StorageSettings BindStorage(IConfiguration configuration)
    {
        var section = configuration.GetSection(StorageSettings.SectionName);
        var settings = section.Get<StorageSettings>() ?? new StorageSettings();
        settings.ConnectionString ??= section.Value;
        return settings;
    }

    public static ServiceBusSettings BindServiceBus(IConfiguration configuration)
    {
        var section = configuration.GetSection(ServiceBusSettings.SectionName);
        var settings = section.Get<ServiceBusSettings>() ?? new ServiceBusSettings();
        settings.ConnectionString ??= section.Value;
        return settings;
    }

    private static InvalidOperationException Missing(string setting) =>
        new($"Setting {setting} is missing (see docs/deployment.md, 'Configuration the apps receive').");
}
