using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using CodeFormer.Engine.Hosting;
using CodeFormer.Engine.Pipeline;
using CodeFormer.GpuRunner.Health;
using CodeFormer.GpuRunner.Jobs;
using CodeFormer.GpuRunner.Models;
using CodeFormer.GpuRunner.Queue;
using CodeFormer.GpuRunner.Settings;
using CodeFormer.GpuRunner.Telemetry;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CodeFormer.GpuRunner;

/// <summary>Everything the worker registers, in one place. Program.cs and the tests' in-process workers call the same method.</summary>
public static class GpuRunnerHostExtensions
{
    /// <summary>Room the host leaves after the grace period for settling messages and flushing telemetry.</summary>
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(15);

    public static HostApplicationBuilder AddGpuRunner(this HostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;

        // Azure clients (managed identity, or local connection strings), the job and tenant stores, event publishing.
        services.AddCodeFormerService(configuration);

        services.AddOptions<WorkerSettings>().Bind(configuration.GetSection(WorkerSettings.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkerSettings>, WorkerSettingsValidation>();
        services.AddOptions<HealthSettings>().Bind(configuration.GetSection(HealthSettings.SectionName));
        var grace = configuration.GetSection(WorkerSettings.SectionName).Get<WorkerSettings>()?.ShutdownGracePeriod ?? new WorkerSettings().ShutdownGracePeriod;
        services.Configure<HostOptions>(options => options.ShutdownTimeout = grace + ShutdownMargin);

        // The engine resolves its models from the directory the fetcher fills, offline; a relative model path in the
        // Engine section names a file from the models container.
        services.PostConfigure<EngineSettings>(engine =>
        {
            var worker = configuration.GetSection(WorkerSettings.SectionName).Get<WorkerSettings>() ?? new WorkerSettings();
            var directory = Path.GetFullPath(worker.ModelsDirectory);
            engine.ModelsDirectory = directory;
            engine.Offline = true;
            engine.ModelPath = InModels(directory, engine.ModelPath);
            engine.DetectorModelPath = InModels(directory, engine.DetectorModelPath);
            engine.BackgroundModelPath = InModels(directory, engine.BackgroundModelPath);
        });

        // Hosted services start in registration order: health first (probes get an answer while models download),
        // then the models, then the engine, then the queue.
        services.AddSingleton<WorkerHealth>();
        services.AddSingleton<HealthEndpoint>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthEndpoint>());
        services.AddHostedService<ModelFetcher>();
        services.AddRestorationEngine(configuration);

        services.AddMetrics();
        services.AddSingleton<WorkerTelemetry>();
        services.AddSingleton<ResultStore>();
        services.AddHttpClient(WebhookNotifier.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => WebhookNotifier.CreateHandler(sp.GetRequiredService<IOptions<WebhookSettings>>().Value.AllowPrivateAddresses))
            .RemoveAllLoggers();
        services.AddSingleton(sp => new WebhookNotifier(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookNotifier.HttpClientName),
            sp.GetRequiredService<TenantStore>(),
            sp.GetRequiredService<WebhookUrlPolicy>(),
            sp.GetRequiredService<IOptions<WorkerSettings>>().Value.WebhookRules,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<WebhookNotifier>>()));
        var eventsConfigured = !string.IsNullOrWhiteSpace(configuration[$"{JobEventsSettings.SectionName}:topicEndpoint"]);
        services.AddSingleton(sp => new JobEventSink(eventsConfigured ? sp.GetRequiredService<JobEventPublisher>() : null, sp.GetRequiredService<ILogger<JobEventSink>>()));
        services.AddSingleton<JobProcessor>();
        services.AddHostedService<JobQueueListener>();

        AddObservability(builder);
        return builder;
    }

    /// <summary>
    /// Structured JSON logs on stdout (job id and tenant come from the processor's log scope), and OpenTelemetry traces,
    /// metrics and logs to Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set. Application Insights has local
    /// auth off, and the exporter does not read APPLICATIONINSIGHTS_AUTHENTICATION_STRING, so it is given the managed
    /// identity (AZURE_CLIENT_ID) in code. The cloud role name comes from OTEL_SERVICE_NAME ("gpu-worker" in Azure).
    /// </summary>
    private static void AddObservability(HostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(options =>
        {
            options.IncludeScopes = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            options.UseUtcTimestamp = true;
        });
        // Azure SDK request logs carry URLs; keep them at warnings (they redact SAS signatures, but there is no need).
        // The Service Bus SDK logs a lost lock or a reconnect at Error; JobQueueListener sees the same failures (receive,
        // lock renewal, settlement) and logs them as warnings. Error level is kept for failed jobs: the failed-job alert counts it.
        builder.Logging.AddFilter("Azure", LogLevel.Warning);
        builder.Logging.AddFilter("Azure.Messaging.ServiceBus", LogLevel.Critical);

        var connectionString = builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(WorkerTelemetry.Name))
            .WithMetrics(metrics => metrics.AddMeter(WorkerTelemetry.Name));
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return;
        }
        var clientId = builder.Configuration["AZURE_CLIENT_ID"];
        var entraAuth = !string.IsNullOrWhiteSpace(clientId)
            || builder.Configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]?.Contains("Authorization=AAD", StringComparison.OrdinalIgnoreCase) == true;
        void Configure(AzureMonitorExporterOptions options)
        {
            options.ConnectionString = connectionString;
            if (entraAuth)
            {
                // In Azure this resolves to the user-assigned managed identity named by AZURE_CLIENT_ID.
                options.Credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
            }
        }
        telemetry.WithTracing(tracing => tracing.AddAzureMonitorTraceExporter(Configure));
        telemetry.WithMetrics(metrics => metrics.AddAzureMonitorMetricExporter(Configure));
        builder.Logging.AddOpenTelemetry(logging => logging.AddAzureMonitorLogExporter(Configure));
    }

    private static string? InModels(string directory, string? path) =>
        path is null || Path.IsPathRooted(path) ? path : Path.Combine(directory, path);
}
