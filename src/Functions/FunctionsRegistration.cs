using Azure.Storage.Queues;
using CodeFormer.Functions.Api;
using CodeFormer.Functions.Intake;
using CodeFormer.Functions.Sweep;
using CodeFormer.Functions.Webhooks;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CodeFormer.Functions;

/// <summary>The Functions app's own services on top of <see cref="ServiceRegistration.AddCodeFormerService"/>; one place, so the host and the wiring test cannot drift apart.</summary>
public static class FunctionsRegistration
{
    public static IServiceCollection AddCodeFormerFunctions(this IServiceCollection services)
    {
        services.AddSingleton<UploadIntakeHandler>();
        services.AddSingleton<JobsApi>();
        services.AddSingleton<AdminApi>();
        services.AddSingleton<OverdueUploadSweeper>();
        // Cancelled and expired jobs' webhooks: queued by the API and the sweep, sent by DeliverTerminalWebhook with the
        // worker's notifier and retry rules.
        services.AddSingleton(sp => new TerminalWebhookQueue(sp.GetRequiredService<QueueServiceClient>().GetQueueClient(TerminalWebhookNotice.QueueName)));
        services.AddSingleton(sp => new WebhookNotifier(
            new HttpClient(WebhookNotifier.CreateHandler(sp.GetRequiredService<IOptions<WebhookSettings>>().Value.AllowPrivateAddresses)),
            sp.GetRequiredService<TenantStore>(),
            sp.GetRequiredService<WebhookUrlPolicy>(),
            WebhookRetryRules.Default,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<WebhookNotifier>>()));
        services.AddSingleton<TerminalWebhookSender>();
        return services;
    }
}
