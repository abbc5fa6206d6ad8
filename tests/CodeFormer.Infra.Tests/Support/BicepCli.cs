using System.Reflection;
using System.Runtime.InteropServices;

namespace CodeFormer.Infra.Tests.Support;

/// <summary>
/// The Bicep CLI restored by NuGet (PackageDownload of Azure.Bicep.CommandLine.linux-x64, see the
/// project file). BICEP_PATH overrides it, e.g. for a developer on another OS with bicep installed.
/// </summary>
public static class BicepCli
{
    public static string ExecutablePath { get; } = Locate();

    public static ProcessResult Run(params string[] arguments) =>
        ProcessRunner.Run(
            ExecutablePath,
            arguments,
            RepositoryRoot.Path,
            // Offline, reproducible runs: no telemetry upload, no first-run survey.
            new Dictionary<string, string?> { ["BICEP_TELEMETRY_ENABLED"] = "false" });

    private static string Locate()
    {
        var configured = Environment.GetEnvironmentVariable("BICEP_PATH");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured)
                ? configured
                : throw new FileNotFoundException($"BICEP_PATH points at {configured}, which does not exist.");
        }

        var restored = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "BicepExecutable")?.Value;
        if (string.IsNullOrWhiteSpace(restored) || !File.Exists(restored))
        {
            throw new FileNotFoundException(
                $"The Bicep CLI restored by NuGet was expected at '{restored}'. Run `dotnet restore` for this project, or set BICEP_PATH.");
        }
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException(
                $"The restored Bicep CLI is the linux-x64 build; this machine is {RuntimeInformation.RuntimeIdentifier}. Set BICEP_PATH to a bicep for this platform.");
        }
        EnsureExecutable(restored);
        return restored;
    }

    // NuGet extracts package files without guaranteeing the execute bit on every system.
    private static void EnsureExecutable(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode executable = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((mode & UnixFileMode.UserExecute) == 0)
        {
            File.SetUnixFileMode(path, mode | executable);
        }
    }
}
