using System.Globalization;
using System.Text.Json;

namespace CodeFormer.Engine.Video;

/// <summary>What ffprobe says about a video, before any frame is decoded.</summary>
/// <param name="Width">Display width (after rotation), which is what the decoder delivers with autorotation.</param>
/// <param name="FrameRate">The video stream's frame rate as a rational ("30000/1001"), passed to the encoder unchanged.</param>
/// <param name="Rotation">Rotation of the stored frames in degrees (metadata); the frames are decoded upright.</param>
/// <param name="SampleAspectRatio">Pixel aspect ratio ("1:1", "4:3"), kept on the output.</param>
public sealed record VideoInfo(int Width, int Height, string FrameRate, double FramesPerSecond, double DurationSeconds, long FrameCount,
    string VideoCodec, int Rotation, string SampleAspectRatio, string? AudioCodec)
{
    public bool HasAudio => AudioCodec is not null;
}

/// <summary>Limits checked on the probe, so an over-long or over-large video is refused before decoding starts.</summary>
public sealed record VideoLimits
{
    public double MaxDurationSeconds { get; init; } = 30 * 60;
    public int MaxSide { get; init; } = 4096;
    public long MaxFrames { get; init; } = 30 * 60 * 60;

    public void Check(VideoInfo info, string path)
    {
        if (info.Width > MaxSide || info.Height > MaxSide)
        {
            throw new VideoException($"'{path}' is {info.Width} × {info.Height}; videos may be at most {MaxSide} pixels a side.");
        }
        if (info.DurationSeconds > MaxDurationSeconds)
        {
            throw new VideoException($"'{path}' lasts {info.DurationSeconds:F1} s; videos may last at most {MaxDurationSeconds:F0} s.");
        }
        if (info.FrameCount > MaxFrames)
        {
            throw new VideoException($"'{path}' has {info.FrameCount} frames; videos may have at most {MaxFrames}.");
        }
    }

    /// <summary>
    /// Checked before each decoded frame is processed, because the header's duration and frame count are only claims:
    /// a live-written Matroska file has neither (so both read 0 and pass <see cref="Check"/>), and any container can
    /// understate them. Decoding stops at the limits whatever the header said.
    /// </summary>
    public void CheckWhileDecoding(long framesDecoded, VideoInfo info, string path)
    {
        double seconds = framesDecoded / info.FramesPerSecond;
        if (framesDecoded > MaxFrames || seconds > MaxDurationSeconds)
        {
            string claimed = info.FrameCount > 0 ? $"its header claims {info.FrameCount} frames" : "its header gives no length";
            throw new VideoException($"'{path}' goes on past {framesDecoded - 1} frames ({seconds:F1} s at {info.FramesPerSecond:0.###} frames/s), " +
                $"although {claimed}; videos may have at most {MaxFrames} frames and last at most {MaxDurationSeconds:F0} s. Stopped without writing an output.");
        }
    }
}

/// <summary>Runs ffprobe once and reads the first video stream, the first audio stream and the duration.</summary>
public static class VideoProbe
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Sniffs the container first (<see cref="VideoContainer.Of"/>), then probes with that demuxer pinned.</summary>
    public static VideoInfo Probe(FfmpegTools tools, string path, CancellationToken cancellationToken = default)
        => Probe(tools, VideoContainer.Of(path), cancellationToken);

    public static VideoInfo Probe(FfmpegTools tools, VideoContainer container, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        string path = container.Path;
        using var process = FfmpegTools.Start(tools.Ffprobe,
            ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", .. container.InputArguments()], stdin: false, stdout: true);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        // ffprobe reads headers and a few packets; a file that keeps it busy longer than this is refused, never waited on.
        if (!process.WaitForExit(ProbeTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new VideoException($"'{path}' is not a readable video: ffprobe was still reading its headers after {ProbeTimeout.TotalSeconds:F0} s.");
        }
        string json = stdout.GetAwaiter().GetResult();
        string errors = stderr.GetAwaiter().GetResult().Trim();
        if (process.ExitCode != 0)
        {
            throw new VideoException($"'{path}' is not a readable video: ffprobe said {(errors.Length > 0 ? errors : $"exit code {process.ExitCode}")}.");
        }
        try
        {
            return Parse(json, path);
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or FormatException or InvalidOperationException and not VideoException)
        {
            throw new VideoException($"'{path}' is not a readable video: ffprobe's description could not be read ({error.Message}).", error);
        }
    }

    internal static VideoInfo Parse(string json, string path)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var streams = root.TryGetProperty("streams", out var s) ? s.EnumerateArray().ToList() : [];
        var video = streams.FirstOrDefault(x => Text(x, "codec_type") == "video" && !IsAttachedPicture(x));
        if (video.ValueKind != JsonValueKind.Object)
        {
            throw new VideoException($"'{path}' has no video stream.");
        }
        var audio = streams.FirstOrDefault(x => Text(x, "codec_type") == "audio");
        int width = video.GetProperty("width").GetInt32(), height = video.GetProperty("height").GetInt32();
        if (width <= 0 || height <= 0)
        {
            throw new VideoException($"'{path}' has a video stream without a frame size.");
        }
        string rate = Text(video, "avg_frame_rate") is { } avg && Rational(avg) > 0 ? avg : Text(video, "r_frame_rate") ?? "0/0";
        double fps = Rational(rate);
        if (!(fps > 0) || fps > 1000)
        {
            throw new VideoException($"'{path}' has no usable frame rate ('{rate}').");
        }
        double duration = Number(root.TryGetProperty("format", out var format) ? Text(format, "duration") : null) ?? Number(Text(video, "duration")) ?? 0;
        // A negative or non-finite duration is no duration: the decoding loop holds the real length to the limits.
        if (!double.IsFinite(duration) || duration < 0)
        {
            duration = 0;
        }
        long frames = long.TryParse(Text(video, "nb_frames"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n > 0
            ? n
            : (long)Math.Round(duration * fps);
        int rotation = RotationOf(video);
        if (Math.Abs(rotation) % 180 == 90)
        {
            (width, height) = (height, width);
        }
        string sar = Text(video, "sample_aspect_ratio") is { } ratio && ratio != "0:1" && ratio != "N/A" ? ratio : "1:1";
        return new VideoInfo(width, height, rate, fps, duration, frames, Text(video, "codec_name") ?? "unknown", rotation, sar,
            audio.ValueKind == JsonValueKind.Object ? Text(audio, "codec_name") ?? "unknown" : null);
    }

    private static bool IsAttachedPicture(JsonElement stream)
        => stream.TryGetProperty("disposition", out var d) && d.TryGetProperty("attached_pic", out var a) && a.GetInt32() == 1;

    private static int RotationOf(JsonElement video)
    {
        if (video.TryGetProperty("side_data_list", out var sideData))
        {
            foreach (var item in sideData.EnumerateArray())
            {
                if (item.TryGetProperty("rotation", out var r))
                {
                    return (int)Math.Round(r.ValueKind == JsonValueKind.Number ? r.GetDouble() : double.Parse(r.GetString()!, CultureInfo.InvariantCulture));
                }
            }
        }
        return video.TryGetProperty("tags", out var tags) && int.TryParse(Text(tags, "rotate"), out int rotate) ? rotate : 0;
    }

    private static string? Text(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText() : null;

    private static double? Number(string? text)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : null;

    internal static double Rational(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double b) && b != 0)
        {
            return a / b;
        }
        return Number(text) ?? 0;
    }
}
