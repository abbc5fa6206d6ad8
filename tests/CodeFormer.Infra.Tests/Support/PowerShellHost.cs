using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;

namespace CodeFormer.Infra.Tests.Support;

/// <summary>
/// Runs a PowerShell script file in-process the way `pwsh -File` would for an azd hook, and reports it as
/// a <see cref="ProcessResult"/>: the script's exit code (`exit N`, else the last native command's, or 1
/// for an uncaught error), its host/information output as standard output, and what it wrote to the
/// process's stderr plus any error records as standard error. The environment values are set on the
/// process for the run and restored afterwards, so callers must not run in parallel with anything that
/// reads them.
/// </summary>
public static class PowerShellHost
{
    private static readonly Lock Gate = new();

    public static ProcessResult RunScript(string scriptPath, IReadOnlyDictionary<string, string?> environment)
    {
        lock (Gate)
        {
            var saved = environment.Keys.ToDictionary(name => name, Environment.GetEnvironmentVariable);
            var savedError = Console.Error;
            using var standardError = new StringWriter();
            try
            {
                foreach (var (name, value) in environment)
                {
                    Environment.SetEnvironmentVariable(name, value);
                }
                Console.SetError(standardError);
                return Run(scriptPath, standardError);
            }
            finally
            {
                Console.SetError(savedError);
                foreach (var (name, value) in saved)
                {
                    Environment.SetEnvironmentVariable(name, value);
                }
            }
        }
    }

    private static ProcessResult Run(string scriptPath, StringWriter standardError)
    {
        using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        using var shell = PowerShell.Create(runspace);
        // `exit N` in the script ends the script and sets $LASTEXITCODE for this caller.
        shell.AddScript("param($path) $global:LASTEXITCODE = 0; & $path; $global:LASTEXITCODE").AddArgument(scriptPath);

        var standardOutput = new StringBuilder();
        int exitCode;
        try
        {
            var results = shell.Invoke();
            exitCode = results.Count > 0 && results[^1]?.BaseObject is int code ? code : 0;
        }
        catch (RuntimeException exception)
        {
            standardError.WriteLine(exception.Message);
            exitCode = 1;
        }
        foreach (var information in shell.Streams.Information)
        {
            standardOutput.AppendLine(information.ToString());
        }
        foreach (var error in shell.Streams.Error)
        {
            standardError.WriteLine(error.ToString());
            exitCode = exitCode == 0 ? 1 : exitCode;
        }
        return new ProcessResult(exitCode, standardOutput.ToString(), standardError.ToString());
    }
}
