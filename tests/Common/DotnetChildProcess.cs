using System.Diagnostics;

namespace CodeFormer.Testing;

/// <summary>
/// Runs a built .NET assembly as a child process with the same <c>dotnet</c> host as the tests, capturing both streams.
/// A child that runs past its timeout is killed with its whole process tree and fails the test with what it printed.
/// </summary>
internal static class DotnetChildProcess
{
    public static ProcessStartInfo StartInfo(string assemblyPath, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assemblyPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return start;
    }

    /// <param name="description">What the child does, for the failure message (e.g. "codeformer restore a.jpg").</param>
    public static (int ExitCode, string StdOut, string StdErr) Run(ProcessStartInfo start, TimeSpan timeout, string description)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{description} did not finish within {timeout.TotalSeconds} s and was killed.\n" +
                $"stdout so far:\n{stdout.Result}\nstderr so far:\n{stderr.Result}");
        }
        process.WaitForExit(); // drains the redirected streams
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The dotnet host running these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
