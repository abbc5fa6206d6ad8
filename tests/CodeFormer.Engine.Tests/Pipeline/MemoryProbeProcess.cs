using System.Text.Json;
using CodeFormer.MemoryProbe;
using CodeFormer.Testing;

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
        var start = DotnetChildProcess.StartInfo(AssemblyPath,
        [
            "--model", modelPath, "--detector", detectorPath, "--warm-up", warmUpPath, "--photo", photoPath,
            "--upscale", upscale.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);
        // A fixed mmap threshold turns off glibc's adaptive one, which after the warm-up serves large buffers from the heap
        // and keeps them resident when freed: a varying share of the photo's memory was then counted before the restore.
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = "131072";

        var (exitCode, stdout, stderr) = DotnetChildProcess.Run(start, Timeout, $"The memory probe for {Path.GetFileName(photoPath)} s={upscale}");
        string output = stdout.Trim();
        // The report is the last line; anything a library printed before it is not part of it.
        string report = output.Split('\n')[^1];
        Assert.True(exitCode == 0,
            $"The memory probe for {Path.GetFileName(photoPath)} s={upscale} exited with {exitCode}.\nstdout:\n{output}\nstderr:\n{stderr}");
        return JsonSerializer.Deserialize<ProbeReport>(report)
            ?? throw new InvalidOperationException($"The memory probe printed no report: '{output}'.");
    }
}
