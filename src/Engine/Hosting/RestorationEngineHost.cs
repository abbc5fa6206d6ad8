using CodeFormer.Engine.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CodeFormer.Engine.Hosting;

/// <summary>
/// Owns the process's one <see cref="RestorationEngine"/>: builds it when the host starts (resolving, downloading and
/// converting models, opening CUDA) and disposes it when the host stops. Start fails, and with it the host, when the
/// engine cannot be built: <see cref="Runtime.GpuUnavailableException"/> under requireGpu, a missing model offline, …
/// Register it before the services that consume the engine, so they start after it.
/// </summary>
public sealed class RestorationEngineHost(IServiceProvider services, IOptions<EngineSettings> settings, ILogger<RestorationEngineHost> logger) : IHostedService, IDisposable
{
    private readonly TaskCompletionSource<RestorationEngine> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RestorationEngine? _engine;

    /// <summary>The engine; throws when the host has not started it (or failed to).</summary>
    public RestorationEngine Engine => _engine ?? throw new InvalidOperationException("The restoration engine has not been started (or failed to start); see the host's start-up error.");

    /// <summary>Completes with the engine once it is built (or with the reason it could not be).</summary>
    public Task<RestorationEngine> Ready => _ready.Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var factory = services.GetRequiredService<RestorationEngineFactory>();
            _engine = await factory.CreateAsync(settings.Value, cancellationToken).ConfigureAwait(false);
            _ready.TrySetResult(_engine);
        }
        catch (Exception ex)
        {
            logger.LogCritical(ex, "The restoration engine could not be started: {Reason}", ex.Message);
            _ready.TrySetException(ex);
            throw;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _engine, null)?.Dispose();
    }
}
