using CodeFormer.Functions.Api;
using CodeFormer.Functions.Intake;
using CodeFormer.Functions.Sweep;
using CodeFormer.Service.Testing;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CodeFormer.Functions.Tests;

/// <summary>The DI wiring both hosts use, from the documented setting names, against the local stack.</summary>
[Collection(ServiceStackCollection.Name)]
public sealed class ServiceRegistrationTests(ServiceStack stack)
{
    [Fact]
    public async Task The_documented_settings_wire_a_working_api_and_intake()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // Local development form: connection strings in the sections' own values.
            ["Storage"] = stack.Azurite.ConnectionString,
            ["ServiceBusConnection"] = stack.Broker.ConnectionString,
            // Section__key settings as the Function app receives them (docs/deployment.md), read as Section:key.
            ["Jobs:queueName"] = stack.Settings.QueueName,
            ["Jobs:tableName"] = stack.Settings.TableName,
            ["Jobs:uploadsContainer"] = stack.Settings.UploadsContainer,
            ["Jobs:resultsContainer"] = stack.Settings.ResultsContainer,
            ["JobEvents:topicEndpoint"] = stack.Topic.Endpoint.ToString(),
            ["JobEvents:topicKey"] = CloudEventReceiver.AccessKey,
            ["Jobs:uploadGraceSeconds"] = "120",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddCodeFormerService(configuration);
        services.AddCodeFormerFunctions();
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var tenant = await stack.NewTenantAsync();
        var created = await provider.GetRequiredService<JobsApi>().CreateAsync(new ApiRequest { Authorization = "Bearer " + tenant.ApiKey });
        Assert.Equal(201, created.Status);
        var intake = await provider.GetRequiredService<UploadIntakeHandler>().HandleAsync($"{tenant.Tenant.TenantId}/text.txt");
        Assert.Equal(IntakeOutcome.Ignored, intake.Outcome); // no such blob: nothing to do, nothing thrown
        Assert.Equal(stack.Settings.TableName, provider.GetRequiredService<Azure.Data.Tables.TableClient>().Name);
        Assert.Equal(stack.Settings.QueueName, provider.GetRequiredService<Azure.Messaging.ServiceBus.ServiceBusSender>().EntityPath);
        Assert.Equal(120, provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobsSettings>>().Value.UploadGraceSeconds);
        // The job just created is inside its window: the sweep wired from the same settings runs and leaves it alone.
        Assert.Equal(0, (await provider.GetRequiredService<OverdueUploadSweeper>().SweepAsync()).Retried);
        // The webhook notices go to the queue the trigger reads, in the data account (Storage).
        var notices = provider.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>().GetQueueClient(Webhooks.TerminalWebhookNotice.QueueName);
        Assert.Equal(stack.Azurite.CreateQueueServiceClient().Uri, provider.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>().Uri);
        Assert.NotNull(provider.GetRequiredService<Webhooks.TerminalWebhookSender>());
        Assert.Equal("webhook-notices", notices.Name);
        var view = System.Text.Json.JsonSerializer.Deserialize(created.Body, ApiJsonContext.Default.CreatedJob)!;
        Assert.Equal(JobState.AwaitingUpload, (await provider.GetRequiredService<JobStore>().GetAsync(tenant.Tenant.TenantId, view.Job.JobId))!.State);
    }

    [Fact]
    public void A_missing_setting_is_named_when_the_client_is_first_needed()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>()).Build();
        using var provider = new ServiceCollection().AddLogging().AddCodeFormerService(configuration).BuildServiceProvider();
        var error = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<JobStore>());
        Assert.Contains("Storage__tableServiceUri", error.ToString());
    }
}
