namespace CodeFormer.Engine.Video;

/// <summary>
/// The ffmpeg encoder arguments for an output container: H.264 (VP9 for WebM) at the given CRF, yuv420p padded to even
/// sides, the input's pixel aspect, and the input's first audio stream copied when the container can hold its codec
/// (re-encoded otherwise).
/// </summary>
internal static class VideoEncoding
{
    public static readonly IReadOnlyDictionary<string, string> MuxerByExtension = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".mp4"] = "mp4", [".mov"] = "mov", [".mkv"] = "matroska", [".webm"] = "webm", [".avi"] = "avi",
    };

    public static bool IsVideoPath(string path) => MuxerByExtension.ContainsKey(Path.GetExtension(path));

    public static List<string> EncoderArguments(VideoInfo info, int width, int height, string inputPath, string outputPath, int crf)
    {
        string extension = Path.GetExtension(outputPath).ToLowerInvariant();
        string muxer = MuxerByExtension.TryGetValue(extension, out var m) ? m
            : throw new ArgumentException($"Unsupported video container '{extension}'; expected {string.Join(", ", MuxerByExtension.Keys)}.");
        var args = new List<string>
        {
            "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{width}x{height}", "-framerate", info.FrameRate, "-i", "pipe:0",
            "-i", inputPath,
            "-map", "0:v:0", "-map", "1:a:0?",
            "-vf", $"pad=ceil(iw/2)*2:ceil(ih/2)*2,setsar={info.SampleAspectRatio.Replace(':', '/')}",
        };
        if (muxer == "webm")
        {
            args.AddRange(["-c:v", "libvpx-vp9", "-crf", crf.ToString(System.Globalization.CultureInfo.InvariantCulture), "-b:v", "0", "-row-mt", "1", "-deadline", "good", "-cpu-used", "4"]);
        }
        else
        {
            args.AddRange(["-c:v", "libx264", "-preset", "medium", "-crf", crf.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        args.AddRange(["-pix_fmt", "yuv420p"]);
        if (info.AudioCodec is { } audio)
        {
            args.AddRange(["-c:a", AudioCodecFor(muxer, audio)]);
        }
        if (muxer is "mp4" or "mov")
        {
            args.AddRange(["-movflags", "+faststart"]);
        }
        args.AddRange(["-f", muxer, outputPath]);
        return args;
    }

    /// <summary>"copy" when the container holds the input's audio codec as it is; else a codec it holds.</summary>
    internal static string AudioCodecFor(string muxer, string audioCodec) => muxer switch
    {
        "matroska" => "copy",
        "mp4" or "mov" => audioCodec is "aac" or "mp3" or "alac" or "ac3" or "eac3" or "opus" ? "copy" : "aac",
        "webm" => audioCodec is "opus" or "vorbis" ? "copy" : "libopus",
        "avi" => audioCodec is "mp3" or "ac3" || audioCodec.StartsWith("pcm_", StringComparison.Ordinal) ? "copy" : "libmp3lame",
        _ => "aac",
    };
}
