using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using CodeFormer.GpuRunner.Health;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CodeFormer.GpuRunner.Testing;

/// <summary>A worker in this process: the same registration as Program.cs, configured from a dictionary (no environment).</summary>
public sealed class InProcessWorker : IAsyncDisposable
{
    private readonly IHost _host;

    private InProcessWorker(IHost host, LogCollector logs)
    {
        _host = host;
        Logs = logs;
    }

    /// <summary>Everything the worker logged.</summary>
    public LogCollector Logs { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Where /healthz answers (the health port is picked free).</summary>
    public Uri HealthAddress => Services.GetRequiredService<HealthEndpoint>().Address ?? throw new InvalidOperationException("The health endpoint is not listening.");

    public static IHost Build(IReadOnlyDictionary<string, string?> settings, LogCollector? logs = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddGpuRunner();
        if (logs is not null)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
        }
        return builder.Build();
    }

    public static async Task<InProcessWorker> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var logs = new LogCollector();
        var host = Build(settings, logs);
        await host.StartAsync();
        return new InProcessWorker(host, logs);
    }

    public Task StopAsync() => _host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>
/// The worker as a real child process (<c>dotnet CodeFormer.GpuRunner.dll</c>, settings as environment variables), so
/// tests can kill it with SIGKILL or stop it with SIGTERM. Its stdout (JSON log lines) is collected.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private WorkerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _lines.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _lines.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>The JSON log's marker of <see cref="Jobs.JobProcessor.ResultWrittenEvent"/>: this process created a result blob.</summary>
    public static readonly string ResultWrittenMarker = $"\"EventId\":{Jobs.JobProcessor.ResultWrittenEvent.Id},";

    /// <summary>How many result blobs this process created.</summary>
    public int ResultsWritten => _lines.Count(l => l.Contains(ResultWrittenMarker, StringComparison.Ordinal));

    public static WorkerProcess Start(IReadOnlyDictionary<string, string?> settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        return new WorkerProcess(Process.Start(start) ?? throw new InvalidOperationException("Could not start the worker process."));
    }

    /// <summary>Waits until a log line contains <paramref name="text"/>; false on timeout or exit.</summary>
    public async Task<bool> WaitForLineAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }
            if (_process.HasExited)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return false;
    }

    /// <summary>SIGKILL: no handler runs, no message is settled, the locks stay until they expire.</summary>
    public void Kill() => _process.Kill(entireProcessTree: false);

    /// <summary>SIGTERM: what Container Apps sends on scale-in or deploy.</summary>
    public void Terminate()
    {
        if (SendSignal(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    public Task WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync().WaitAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>src/GpuRunner/bin/{configuration of this test build}/net10.0/CodeFormer.GpuRunner.dll.</summary>
    public static string DllPath
    {
        get
        {
            var configuration = typeof(WorkerProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CodeFormer.Cloud.sln")))
                {
                    var path = Path.Combine(dir.FullName, "src", "GpuRunner", "bin", configuration, "net10.0", "CodeFormer.GpuRunner.dll");
                    return File.Exists(path) ? path : throw new FileNotFoundException($"Build the worker first: {path} is missing.", path);
                }
            }
            throw new InvalidOperationException("Cannot find the repository root (CodeFormer.Cloud.sln) above " + AppContext.BaseDirectory);
        }
    }
}
