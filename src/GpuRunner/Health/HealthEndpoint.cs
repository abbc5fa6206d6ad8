using CodeFormer.GpuRunner.Settings;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CodeFormer.GpuRunner.Health;

/// <summary>
/// <c>GET /healthz</c> on <c>Health__port</c>: 200 "ready" once the models are loaded and the receive loop runs, 503 with
/// the reason otherwise (the startup, readiness and liveness probes of infra/bicep all call it); <c>GET /healthz/live</c>
/// answers liveness alone (200 while starting, 503 once the loop has stalled). A minimal Kestrel app of its own, started
/// first among the hosted services, so the probes get an answer while models download.
/// </summary>
public sealed class HealthEndpoint(WorkerHealth health, IOptions<HealthSettings> settings, ILogger<HealthEndpoint> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The address it listens on (the port resolved when 0 was asked for).</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{settings.Value.Address}:{settings.Value.Port}");
        var app = builder.Build();
        app.MapGet("/healthz", () => health.NotReadyReason() is { } reason
            ? Results.Text("not ready: " + reason, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ready"));
        app.MapGet("/healthz/live", () => health.LivenessProblem() is { } problem
            ? Results.Text("unhealthy: " + problem, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("alive"));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Address = address is null ? null : new Uri(address);
        logger.LogInformation("Health endpoint listening on {Address}healthz", Address);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
