using System.Diagnostics;

namespace CodeFormer.Engine.Video;

/// <summary>A video could not be read, is over the limits, or ffmpeg failed; the message says which and why.</summary>
public sealed class VideoException(string message, Exception? inner = null) : InvalidOperationException(message, inner);

/// <summary>
/// Where ffmpeg and ffprobe are: an explicit ffmpeg path (ffprobe is looked for beside it), else the PATH. Video is
/// decoded and encoded by these processes (Debian's package), streamed through pipes, never held whole in memory.
/// </summary>
public sealed record FfmpegTools(string Ffmpeg, string Ffprobe)
{
    public const string InstallHint = "Install it (Debian/Ubuntu: apt-get install ffmpeg) or pass its path with --ffmpeg.";

    /// <param name="explicitFfmpeg">A path to ffmpeg given by the user, or null to search the PATH.</param>
    public static FfmpegTools Locate(string? explicitFfmpeg = null, string? pathVariable = null)
    {
        if (explicitFfmpeg is not null)
        {
            string full = Path.GetFullPath(explicitFfmpeg);
            if (!File.Exists(full))
            {
                throw new VideoException($"ffmpeg was not found at '{full}'. {InstallHint}");
            }
            string probe = Path.Combine(Path.GetDirectoryName(full)!, OperatingSystem.IsWindows() ? "ffprobe.exe" : "ffprobe");
            return new FfmpegTools(full, File.Exists(probe) ? probe : FindOnPath("ffprobe", pathVariable)
                ?? throw new VideoException($"ffprobe was found neither beside '{full}' nor on the PATH. {InstallHint}"));
        }
        string? ffmpeg = FindOnPath("ffmpeg", pathVariable);
        string? ffprobe = FindOnPath("ffprobe", pathVariable);
        if (ffmpeg is null || ffprobe is null)
        {
            throw new VideoException($"Video needs ffmpeg and ffprobe, and {(ffmpeg is null ? "ffmpeg" : "ffprobe")} was not found on the PATH. {InstallHint}");
        }
        return new FfmpegTools(ffmpeg, ffprobe);
    }

    private static string? FindOnPath(string name, string? pathVariable)
    {
        string exe = OperatingSystem.IsWindows() ? name + ".exe" : name;
        foreach (var directory in (pathVariable ?? Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, exe);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>A process with the given arguments, its streams redirected as asked; never a shell.</summary>
    internal static Process Start(string executable, IEnumerable<string> arguments, bool stdin, bool stdout)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = stdin,
            RedirectStandardOutput = stdout,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start) ?? throw new VideoException($"Could not start {executable}.");
    }
}
