using System.Diagnostics;

namespace CodeFormer.Testing;

/// <summary>
/// Video tests need Debian's ffmpeg (`.ci/run` installs it). Without it they FAIL naming the fix, so a fresh machine
/// running ./test.sh cannot pass silently without the video path; CODEFORMER_SKIP_VIDEO_TESTS=1 opts out explicitly
/// (they are then reported as skipped). Clips are generated from ../shared/assets photos by ffmpeg itself.
/// </summary>
public static class VideoTestSupport
{
    public const string OptOutVariable = "CODEFORMER_SKIP_VIDEO_TESTS";

    public static string? FfmpegOnPath { get; } = Find("ffmpeg");

    public static bool OptedOut => Environment.GetEnvironmentVariable(OptOutVariable) == "1";

    /// <summary>ffmpeg's path, or a failure that says how to get it (or how to opt out).</summary>
    public static string RequireFfmpeg()
    {
        if (FfmpegOnPath is null || Find("ffprobe") is null)
        {
            Assert.Fail($"ffmpeg/ffprobe are not on the PATH, and the video tests need them. Install them (apt-get install -y ffmpeg; .ci/run does) " +
                $"or set {OptOutVariable}=1 to skip the video tests on purpose.");
        }
        return FfmpegOnPath!;
    }

    /// <summary>Runs ffmpeg with the given arguments (no shell) and fails the test with its message when it fails.</summary>
    public static void Ffmpeg(params string[] arguments)
    {
        var start = new ProcessStartInfo(RequireFfmpeg()) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-hide_banner", "-loglevel", "error", "-y", "-nostdin" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        _ = stdout.Result;
        Assert.True(process.ExitCode == 0, $"ffmpeg {string.Join(' ', arguments)} failed: {errors}");
    }

    /// <summary>
    /// A clip of a slow pan and zoom over the photo (320 × 240), with a 440 Hz tone, H.264 + AAC in MP4.
    /// <paramref name="still"/> keeps the camera still and adds temporal noise instead, so only detector noise moves the landmarks.
    /// </summary>
    public static void MakeClip(string photo, string output, double seconds, int fps, bool still = false, int width = 320, int height = 240)
    {
        string seconds_ = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string filter = still
            ? $"scale={width + 40}:-2,crop={width}:{height}:20:20,noise=alls=12:allf=t,format=yuv420p"
            : $"scale=w='{width + 80}+8*t':h=-2:eval=frame,crop={width}:{height}:x='20+4*t':y='30+2*t',format=yuv420p";
        Ffmpeg("-loop", "1", "-framerate", fps.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", photo,
            "-f", "lavfi", "-i", $"sine=frequency=440:sample_rate=44100:duration={seconds_}",
            "-vf", filter, "-t", seconds_, "-r", fps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac", "-b:a", "64k", "-shortest", output);
    }

    private static string? Find(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}

/// <summary>A fact that needs ffmpeg and shared assets: skipped only when assets are absent or video tests are opted out.</summary>
public sealed class VideoFactAttribute : FactAttribute
{
    public VideoFactAttribute(params string[] relativePaths)
    {
        var missing = relativePaths.Where(p => !TestAssets.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            Skip = $"Test asset(s) not found under {TestAssets.Root}: {string.Join(", ", missing)} (set CODEFORMER_ASSETS).";
        }
        else if (VideoTestSupport.OptedOut)
        {
            Skip = $"Video tests skipped on purpose ({VideoTestSupport.OptOutVariable}=1).";
        }
    }
}
