using Azure.Storage.Queues;
using CodeFormer.Functions.Api;
using CodeFormer.Functions.Intake;
using CodeFormer.Functions.Sweep;
using CodeFormer.Functions.Webhooks;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddCodeFormerService(builder.Configuration);
builder.Services.AddSingleton<UploadIntakeHandler>();
builder.Services.AddSingleton<JobsApi>();
builder.Services.AddSingleton<AdminApi>();
builder.Services.AddSingleton<OverdueUploadSweeper>();
// Cancelled and expired jobs' webhooks: queued here, sent by DeliverTerminalWebhook with the worker's notifier and rules.
builder.Services.AddSingleton(sp => new TerminalWebhookQueue(sp.GetRequiredService<QueueServiceClient>().GetQueueClient(TerminalWebhookNotice.QueueName)));
builder.Services.AddSingleton(sp => new WebhookNotifier(
    new HttpClient(WebhookNotifier.CreateHandler(sp.GetRequiredService<IOptions<WebhookSettings>>().Value.AllowPrivateAddresses)),
    sp.GetRequiredService<TenantStore>(),
    sp.GetRequiredService<WebhookUrlPolicy>(),
    WebhookRetryRules.Default,
    sp.GetRequiredService<TimeProvider>(),
    sp.GetRequiredService<ILogger<WebhookNotifier>>()));
builder.Services.AddSingleton<TerminalWebhookSender>();
builder.Build().Run();
