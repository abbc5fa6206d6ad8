using System.Globalization;
using System.Text.RegularExpressions;
using CodeFormer.Testing;
using Xunit.Abstractions;

namespace CodeFormer.Cli.Tests;

/// <summary><c>codeformer restore clip.mp4</c> as a child process: ffmpeg-made clips, the tiny random CodeFormer, the real YuNet.</summary>
[Collection(CliCollection.Name)]
public sealed partial class VideoCommandTests(CliFixture fixture, ITestOutputHelper output)
{
    private const string YuNet = "models/face_detection_yunet_2023mar.onnx";
    private const string Photo = "images/grace_hopper_517x606.jpg";

    [VideoFact(YuNet, Photo)]
    public void Restore_takes_a_video_and_writes_it_with_its_audio()
    {
        string input = fixture.NewFolder("video-in");
        string clip = Path.Combine(input, "clip.mp4");
        VideoTestSupport.MakeClip(TestAssets.PathOf(Photo), clip, seconds: 2, fps: 10);
        string results = fixture.NewFolder("video-out");

        var run = fixture.Run("restore", clip, "-s", "1", "--model", fixture.TinyModelPath, "--detector-model", TestAssets.PathOf(YuNet),
            "--offline", "--device", "cpu", "--crf", "23", "-o", results);

        Assert.True(run.ExitCode == 0, run.ToString());
        string restored = Path.Combine(results, "final_results", "clip.mp4");
        Assert.True(File.Exists(restored), run.ToString());
        Assert.Contains("20 frames (20 with faces)", run.StdErr);
        Assert.Matches(@"\d+\.\d+ frames/s", run.StdErr);
        string streams = Probe(restored);
        Assert.Contains("codec_type=audio", streams);
        Assert.Contains("nb_frames=20", streams);
        Assert.DoesNotContain(Directory.GetFiles(results, "*", SearchOption.AllDirectories), f => Path.GetFileName(f).StartsWith('.'));
    }

    [VideoFact(YuNet, Photo)]
    public void A_missing_ffmpeg_is_named_and_nothing_is_written()
    {
        string input = fixture.NewFolder("video-noffmpeg");
        string clip = Path.Combine(input, "clip.mp4");
        VideoTestSupport.MakeClip(TestAssets.PathOf(Photo), clip, seconds: 1, fps: 5);
        string results = fixture.NewFolder("video-noffmpeg-out");

        var run = fixture.Run("restore", clip, "--ffmpeg", Path.Combine(input, "no", "ffmpeg"), "--model", fixture.TinyModelPath,
            "--detector-model", TestAssets.PathOf(YuNet), "--offline", "-o", results);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("ffmpeg was not found", run.StdErr);
        Assert.Contains("apt-get install ffmpeg", run.StdErr);
        Assert.Empty(Directory.GetFiles(results, "*", SearchOption.AllDirectories));
    }

    /// <summary>
    /// Frames are streamed and their buffers reused, so the peak memory does not grow with the length: a process that
    /// restores a clip six times longer peaks within 10 % of one that restores the short clip. Each length runs in its own
    /// child process after the same warm-up clip, and the process's peak over both videos is compared (the CLI reports
    /// each video's own peak; the process's is the larger of the two). Comparing only the peak after the warm-up was
    /// tried and is not stable: the high-water mark restarts from the resident set left by the warm-up, and 8 frames do
    /// not always climb back to the level the process settles at (+1 % … +20 % over four runs), while the process peak
    /// of a long clip is that level whatever the length. A leak or per-frame garbage (as the 30 MiB a frame before the
    /// buffer reuse) pushes the long clip's process above it.
    /// Short clips at 2 frames/s keep this fast; the bench's `video` command measures 10 s against 60 s.
    /// </summary>
    [VideoFact(YuNet, Photo)]
    public void Peak_memory_does_not_grow_with_the_length_of_the_video()
    {
        string input = fixture.NewFolder("video-memory");
        string warmUp = Path.Combine(input, "warmup.mp4"), shortClip = Path.Combine(input, "short.mp4"), longClip = Path.Combine(input, "long.mp4");
        VideoTestSupport.MakeClip(TestAssets.PathOf(Photo), warmUp, seconds: 4, fps: 2, still: true, width: 160, height: 120);
        VideoTestSupport.MakeClip(TestAssets.PathOf(Photo), shortClip, seconds: 4, fps: 2, still: true, width: 160, height: 120);
        VideoTestSupport.MakeClip(TestAssets.PathOf(Photo), longClip, seconds: 24, fps: 2, still: true, width: 160, height: 120);

        double Peak(string clip)
        {
            var run = fixture.Run("restore", warmUp, clip, "-s", "1", "--model", fixture.TinyModelPath, "--detector-model", TestAssets.PathOf(YuNet),
                "--offline", "--device", "cpu", "-o", fixture.NewFolder("video-memory-out"));
            Assert.True(run.ExitCode == 0, run.ToString());
            var peaks = PeakPattern().Matches(run.StdErr);
            Assert.True(peaks.Count == 2, run.ToString());
            output.WriteLine($"{Path.GetFileName(clip)}: warm-up clip peak {peaks[0].Groups[1].Value} MiB, then {peaks[1].Groups[1].Value} MiB");
            return peaks.Max(p => double.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        double shortPeak = Peak(shortClip);
        double longPeak = Peak(longClip);

        double growth = (longPeak - shortPeak) / shortPeak;
        output.WriteLine($"process peak working set (same warm-up, then the clip): {shortPeak:F1} MiB with 8 frames, {longPeak:F1} MiB with 48 frames ({growth:P1})");
        Assert.True(Math.Abs(growth) < 0.10, $"Peak memory went from {shortPeak:F1} MiB (8 frames) to {longPeak:F1} MiB (48 frames), {growth:P1}.");
    }

    private static string Probe(string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-v", "error", "-show_entries", "stream=codec_type,nb_frames", "-of", "compact", path })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        string text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return text;
    }

    [GeneratedRegex(@"peak working set: ([0-9.]+) MiB \(during this video\)")]
    private static partial Regex PeakPattern();
}
