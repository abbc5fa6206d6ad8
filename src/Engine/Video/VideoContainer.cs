using System.Text;

namespace CodeFormer.Engine.Video;

/// <summary>
/// The container of a video file, read off its first bytes, and the ffmpeg input arguments that pin it.
/// ffmpeg picks its demuxer by content, not by name: a ".mp4" that holds an HLS playlist or an ffconcat script is read
/// as one, and ffmpeg then opens the files the playlist names (ones beside it, or anywhere: the user never named them).
/// So the container is sniffed here, only MP4/MOV, Matroska/WebM and AVI are accepted, and every ffmpeg/ffprobe run
/// names that demuxer with <c>-f</c> and allows only the file protocol, so no playlist, concat or image-sequence demuxer
/// and no network protocol can be chosen by what the file says.
/// </summary>
public sealed record VideoContainer(string Path, string Demuxer, string Kind)
{
    private const int SniffLength = 16;

    /// <summary>Phone and camera videos have 1–5 streams (video, audio, timecode, metadata); films with many subtitle tracks stay well under this.</summary>
    public const int MaxStreams = 64;

    /// <summary>QuickTime/ISO-BMFF top-level boxes a file may start with (ftyp in MP4; moov, mdat, wide, free, skip in older MOVs).</summary>
    private static readonly string[] IsoTopLevelBoxes = ["ftyp", "moov", "mdat", "wide", "free", "skip"];

    /// <summary>
    /// Sniffs the container of <paramref name="path"/> and counts its declared streams; refuses, naming what was found,
    /// any other content and more than <see cref="MaxStreams"/> streams.
    /// </summary>
    public static VideoContainer Of(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"Video '{full}' does not exist.", full);
        }
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var head = new byte[SniffLength];
        int length = stream.ReadAtLeast(head, SniffLength, throwOnEndOfStream: false);
        var container = Sniff(full, head.AsSpan(0, length));
        if (stream.CanSeek && ContainerTrackCount.Count(stream, container.Demuxer) is int tracks && tracks > MaxStreams)
        {
            throw new VideoException($"'{full}' declares {tracks} streams; videos may have at most {MaxStreams} " +
                "(ffmpeg opens a decoder for every stream before the first frame: 1,000 cost 1.6 GB and half a minute).");
        }
        return container;
    }

    private static VideoContainer Sniff(string full, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 8 && IsoTopLevelBoxes.Contains(Encoding.ASCII.GetString(bytes[4..8])))
        {
            return new VideoContainer(full, "mov", "MP4/MOV");
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return new VideoContainer(full, "matroska", "Matroska/WebM");
        }
        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("AVI "u8))
        {
            return new VideoContainer(full, "avi", "AVI");
        }
        throw new VideoException($"'{full}' is not an MP4/MOV, Matroska/WebM or AVI file: {Describe(bytes)}. Only those containers are read, whatever the file's name.");
    }

    /// <summary>
    /// The input arguments for ffmpeg or ffprobe: only the file protocol, this demuxer, and the path as a file: URL, so a
    /// name starting with '-' is never an option and a name with ':' is never read as another protocol.
    /// </summary>
    public IReadOnlyList<string> InputArguments() => ["-protocol_whitelist", "file", "-f", Demuxer, "-i", "file:" + Path];

    private static string Describe(ReadOnlySpan<byte> head)
    {
        if (head.Length == 0)
        {
            return "it is empty";
        }
        if (head.StartsWith("#EXTM3U"u8))
        {
            return "it is an HLS playlist (#EXTM3U), which would make ffmpeg open the files or URLs it lists";
        }
        if (head.StartsWith("ffconcat"u8))
        {
            return "it is an ffconcat script, which would make ffmpeg open the files it lists";
        }
        var printable = new StringBuilder();
        foreach (byte b in head[..Math.Min(head.Length, 12)])
        {
            printable.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
        }
        return $"it starts with '{printable}'";
    }
}
