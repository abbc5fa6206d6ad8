using System.Collections.Concurrent;
using CodeFormer.GpuRunner.Settings;
using Microsoft.Extensions.Options;

namespace CodeFormer.GpuRunner.Health;

/// <summary>
/// What the probes ask. Ready (startup and readiness): the models are loaded and the receive loop runs. Live: the
/// loop has not stalled, i.e. it still runs once started, and no job has been in a handler longer than the job
/// timeout plus a minute (the timeout cancels the engine; a job past that is stuck in native code or a hung GPU, and
/// only a restart frees it — its message returns to the queue when its lock expires).
/// </summary>
public sealed class WorkerHealth(IOptions<WorkerSettings> settings, TimeProvider time)
{
    private static readonly TimeSpan StuckMargin = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<long, (string JobId, DateTimeOffset Since)> _inFlight = new();
    private long _nextTicket;
    private volatile bool _modelsLoaded;
    private volatile bool _receiving;
    private volatile bool _stopping;
    private volatile string? _loopFailure;
    private Func<bool>? _loopRunning;

    public bool ModelsLoaded => _modelsLoaded;

    public bool Receiving => _receiving;

    public void MarkModelsLoaded() => _modelsLoaded = true;

    /// <summary>The receive loop runs; <paramref name="isRunning"/> tells, at each probe, whether it still does.</summary>
    public void MarkReceiving(Func<bool> isRunning)
    {
        _loopRunning = isRunning;
        _receiving = true;
    }

    /// <summary>Shutting down: not ready any more (take no new work), but alive until the host exits.</summary>
    public void MarkStopping()
    {
        _stopping = true;
        _receiving = false;
    }

    /// <summary>The receive loop is gone for good (the processor stopped without being asked).</summary>
    public void MarkLoopFailed(string reason) => _loopFailure = reason;

    public long JobStarted(string jobId)
    {
        var ticket = Interlocked.Increment(ref _nextTicket);
        _inFlight[ticket] = (jobId, time.GetUtcNow());
        return ticket;
    }

    public void JobEnded(long ticket) => _inFlight.TryRemove(ticket, out _);

    public int JobsInFlight => _inFlight.Count;

    /// <summary>Null when ready; otherwise why not.</summary>
    public string? NotReadyReason()
    {
        if (LivenessProblem() is { } problem)
        {
            return problem;
        }
        if (!_modelsLoaded)
        {
            return "models are not loaded yet";
        }
        if (_stopping)
        {
            return "shutting down";
        }
        return _receiving ? null : "the receive loop is not running";
    }

    /// <summary>Null while alive; otherwise why the replica should be restarted.</summary>
    public string? LivenessProblem()
    {
        if (_loopFailure is { } failure)
        {
            return "the receive loop stopped: " + failure;
        }
        if (_receiving && !_stopping && _loopRunning is { } running && !running())
        {
            return "the receive loop is no longer running";
        }
        var limit = settings.Value.JobTimeout + StuckMargin;
        var now = time.GetUtcNow();
        foreach (var (jobId, since) in _inFlight.Values)
        {
            if (now - since > limit)
            {
                return $"job {jobId} has been in the handler for {(now - since).TotalSeconds:F0} s, past the {limit.TotalSeconds:F0} s limit";
            }
        }
        return null;
    }
}
