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

    public static List<string> EncoderArguments(VideoInfo info, int width, int height, VideoContainer input, string outputPath, int crf)
    {
        string extension = Path.GetExtension(outputPath).ToLowerInvariant();
        string muxer = MuxerByExtension.TryGetValue(extension, out var m) ? m
            : throw new ArgumentException($"Unsupported video container '{extension}'; expected {string.Join(", ", MuxerByExtension.Keys)}.");
        List<string> args =
        [
            "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{width}x{height}", "-framerate", info.FrameRate, "-i", "pipe:0",
            // The audio comes from the input, read with its sniffed demuxer pinned (see VideoContainer).
            .. input.InputArguments(),
            "-map", "0:v:0", "-map", "1:a:0?",
        ];
        // Frames arrive upright (ffmpeg's decoder applies the rotation); where the container can carry the rotation,
        // they are turned back to the input's stored orientation here, and RotationTagArguments writes the rotation
        // afterwards, so players show what they showed for the input and the file is stored as the input was.
        var orientation = StoredOrientation.For(info.Rotation, muxer);
        string restore = orientation is { } o ? o.Filter + "," : "";
        args.AddRange(["-vf", $"{restore}pad=ceil(iw/2)*2:ceil(ih/2)*2,setsar={info.SampleAspectRatio.Replace(':', '/')}"]);
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

    /// <summary>
    /// How upright frames go back to a rotated input's stored orientation, and the rotate tag that makes ffmpeg 5.1's
    /// MP4/MOV muxer write the input's display matrix again. ffprobe reports the matrix as an angle R; the decoder
    /// turned the frames by it, and these filters undo exactly that turn (checked byte for byte on transposes:
    /// R = 90 → transpose=clock, R = −90 → transpose=cclock, R = ±180 → hflip,vflip); writing rotate = R mod 360
    /// (see <see cref="RotationTagArguments"/>) gives back the same R. Null when there is nothing to keep, the angle is not a quarter turn, or the container
    /// cannot carry a rotation with this ffmpeg (Matroska/WebM and AVI: ffmpeg 5.1 writes no display matrix there,
    /// so those outputs stay upright without a tag, which players show the same way).
    /// </summary>
    internal sealed record StoredOrientation(string Filter, int RotateTag)
    {
        public static StoredOrientation? For(int rotation, string muxer)
        {
            if (muxer is not ("mp4" or "mov"))
            {
                return null;
            }
            int tag = ((rotation % 360) + 360) % 360;
            return tag switch
            {
                90 => new StoredOrientation("transpose=clock", tag),
                180 => new StoredOrientation("hflip,vflip", tag),
                270 => new StoredOrientation("transpose=cclock", tag),
                _ => null,
            };
        }
    }

    /// <summary>
    /// The second step for a rotated input: a stream copy of the encoded file with the input's rotation. ffmpeg 5.1 turns
    /// a <c>rotate</c> stream tag into the MP4/MOV display matrix only when the stream is copied (fftools applies the
    /// override in its stream-copy set-up); on an encoded stream the tag is dropped without a word, and 5.1 has no
    /// <c>-display_rotation</c> (6.0 added it). The copy costs a read and a write of the compressed file, no re-encode.
    /// </summary>
    public static List<string> RotationTagArguments(string encodedPath, string outputPath, StoredOrientation orientation)
    {
        string muxer = MuxerByExtension[Path.GetExtension(outputPath)];
        return
        [
            "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", encodedPath, "-map", "0", "-c", "copy",
            "-metadata:s:v:0", $"rotate={orientation.RotateTag}", "-movflags", "+faststart", "-f", muxer, outputPath,
        ];
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
