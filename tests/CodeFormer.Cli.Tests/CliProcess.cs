using CodeFormer.Testing;

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
        var start = DotnetChildProcess.StartInfo(AssemblyPath, arguments);
        start.WorkingDirectory = workingDirectory;
        start.Environment["CODEFORMER_MODELS"] = modelsDirectory;
        start.Environment["NO_COLOR"] = "1";

        var (exitCode, stdout, stderr) = DotnetChildProcess.Run(start, Timeout, $"codeformer {string.Join(' ', arguments)}");
        return new CliRun(exitCode, stdout, stderr);
    }
}
