using System.Diagnostics;
using System.Text.Json;
using CodeFormer.MemoryProbe;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>
/// Runs the memory probe (codeformer-memory-probe.dll, copied next to this test assembly by the project reference) in a
/// fresh process with <c>dotnet</c>, so its peak resident set holds only the engine and one photo — not other tests'
/// allocations or memory freed earlier in the test process. A probe that runs past the timeout is killed with its
/// process tree and fails the test with what it printed.
/// </summary>
internal static class MemoryProbeProcess
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string AssemblyPath { get; } = Path.Combine(AppContext.BaseDirectory, "codeformer-memory-probe.dll");

    public static ProbeReport Measure(string modelPath, string detectorPath, string warmUpPath, string photoPath, int upscale)
    {
        Assert.True(File.Exists(AssemblyPath), $"The memory probe was not built next to the tests: {AssemblyPath} is missing.");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A fixed mmap threshold turns off glibc's adaptive one, which after the warm-up serves large buffers from the heap
        // and keeps them resident when freed: a varying share of the photo's memory was then counted before the restore.
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = "131072";
        foreach (var argument in new[]
        {
            AssemblyPath, "--model", modelPath, "--detector", detectorPath, "--warm-up", warmUpPath, "--photo", photoPath,
            "--upscale", upscale.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"The memory probe for {Path.GetFileName(photoPath)} s={upscale} did not finish within {Timeout.TotalSeconds} s " +
                $"and was killed.\nstdout so far:\n{stdout.Result}\nstderr so far:\n{stderr.Result}");
        }
        process.WaitForExit(); // drains the redirected streams
        string output = stdout.Result.Trim();
        // The report is the last line; anything a library printed before it is not part of it.
        string report = output.Split('\n')[^1];
        Assert.True(process.ExitCode == 0,
            $"The memory probe for {Path.GetFileName(photoPath)} s={upscale} exited with {process.ExitCode}.\nstdout:\n{output}\nstderr:\n{stderr.Result}");
        return JsonSerializer.Deserialize<ProbeReport>(report)
            ?? throw new InvalidOperationException($"The memory probe printed no report: '{output}'.");
    }

    /// <summary>The dotnet host running these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
