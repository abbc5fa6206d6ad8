using System.Diagnostics;

namespace CodeFormer.Cli.Tests;

/// <summary>What one run of the CLI did.</summary>
public sealed record CliRun(int ExitCode, string StdOut, string StdErr)
{
    public string AllOutput => StdOut + StdErr;

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}

/// <summary>
/// Runs the built CLI (codeformer.dll, copied next to this test assembly by the project reference) as a child
/// process with <c>dotnet</c>, the way a user does, capturing both streams. A run that exceeds the timeout is killed
/// with its whole process tree and fails the test.
/// </summary>
public static class CliProcess
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public static string AssemblyPath { get; } = Path.Combine(AppContext.BaseDirectory, "codeformer.dll");

    /// <param name="modelsDirectory">$CODEFORMER_MODELS for the run, so no test ever reads or fills the user's model cache.</param>
    public static CliRun Run(string workingDirectory, string modelsDirectory, params string[] arguments)
    {
        Assert.True(File.Exists(AssemblyPath), $"The CLI was not built next to the tests: {AssemblyPath} is missing.");
        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(AssemblyPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["CODEFORMER_MODELS"] = modelsDirectory;
        start.Environment["NO_COLOR"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"codeformer {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s and was killed.\n" +
                $"stdout so far:\n{stdout.Result}\nstderr so far:\n{stderr.Result}");
        }
        process.WaitForExit(); // drains the redirected streams
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The dotnet host running these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
