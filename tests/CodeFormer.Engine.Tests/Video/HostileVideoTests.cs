using System.Text;
using CodeFormer.Engine.Video;
using CodeFormer.Testing;
using Xunit.Abstractions;

namespace CodeFormer.Engine.Tests.Video;

/// <summary>
/// Video files that try to make ffmpeg read what the user did not name, or that abuse the file name. ffmpeg chooses its
/// demuxer by content: unpinned, a ".mp4" holding an HLS playlist or an ffconcat script is read as one, and ffmpeg opens
/// the files it lists (checked with Debian's ffprobe 5.1: both read a clip beside them).
/// </summary>
public sealed class HostileVideoTests(VideoFixture fixture, ITestOutputHelper output) : IClassFixture<VideoFixture>
{
    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void An_mp4_that_is_an_hls_playlist_or_ffconcat_script_naming_a_clip_beside_it_is_refused_not_followed()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        // The files the playlists name are real, decodable clips: followed, they would be restored and reported a success.
        File.Copy(fixture.PanClip, folder.File("secret.mp4"));
        VideoTestSupport.Ffmpeg("-i", fixture.PanClip, "-c", "copy", "-f", "mpegts", folder.File("secret.ts"));
        string hls = folder.File("hls.mp4");
        File.WriteAllText(hls, "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\nsecret.ts\n#EXT-X-ENDLIST\n");
        string concat = folder.File("concat.mp4");
        File.WriteAllText(concat, "ffconcat version 1.0\nfile secret.mp4\n");
        string target = Path.Combine(folder.Path, "out", "restored.mp4");

        var hlsError = Assert.Throws<VideoException>(() => restorer.Restore(hls, target, new VideoOptions()));
        var concatError = Assert.Throws<VideoException>(() => restorer.Restore(concat, target, new VideoOptions()));

        output.WriteLine(hlsError.Message);
        output.WriteLine(concatError.Message);
        Assert.Contains("hls.mp4", hlsError.Message);
        Assert.Contains("HLS playlist", hlsError.Message);
        Assert.Contains("ffconcat script", concatError.Message);
        Assert.Contains("not an MP4/MOV, Matroska/WebM or AVI file", concatError.Message);
        Assert.False(Directory.Exists(Path.GetDirectoryName(target)));
    }

    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void Probing_pins_the_sniffed_demuxer_so_a_playlist_is_refused_by_ffprobe_too()
    {
        using var folder = new TemporaryDirectory();
        File.Copy(fixture.PanClip, folder.File("secret.mp4"));
        string concat = folder.File("concat.mp4");
        File.WriteAllText(concat, "ffconcat version 1.0\nfile secret.mp4\n");
        var tools = FfmpegTools.Locate(VideoTestSupport.RequireFfmpeg());

        // Even handed a container claim that does not match its content, ffprobe reads the file only as that container.
        var forced = new VideoContainer(concat, "mov", "MP4/MOV");
        var error = Assert.Throws<VideoException>(() => VideoProbe.Probe(tools, forced));
        var real = VideoProbe.Probe(tools, fixture.PanClip);

        output.WriteLine(error.Message);
        Assert.Contains("not a readable video", error.Message);
        Assert.Equal(30, real.FrameCount);
    }

    [Theory]
    [InlineData("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", "HLS playlist")]
    [InlineData("ffconcat version 1.0\nfile /etc/passwd\n", "ffconcat script")]
    [InlineData("", "it is empty")]
    [InlineData("RIFF\u0004\0\0\0WAVEfmt ", "it starts with 'RIFF....WAVE'")]
    [InlineData("\u0089PNG\r\n\u001a\n\0\0\0\rIHDR", "it starts with '.PNG")]
    public void Anything_but_mp4_matroska_or_avi_is_refused_by_its_first_bytes_naming_what_it_is(string content, string expected)
    {
        using var folder = new TemporaryDirectory();
        string path = folder.File("clip.mp4");
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(content));

        var error = Assert.Throws<VideoException>(() => VideoContainer.Of(path));

        output.WriteLine(error.Message);
        Assert.Contains(expected, error.Message);
        Assert.Contains("clip.mp4", error.Message);
    }

    [VideoFact(VideoFixture.Photo)]
    public void Mp4_matroska_webm_and_avi_are_recognised_whatever_their_extension()
    {
        using var folder = new TemporaryDirectory();
        string mkv = folder.File("clip.mkv.mp4"), avi = folder.File("clip.avi.mkv");
        VideoTestSupport.Ffmpeg("-i", fixture.PanClip, "-c", "copy", "-f", "matroska", mkv);
        VideoTestSupport.Ffmpeg("-i", fixture.PanClip, "-c", "copy", "-f", "avi", avi);
        var tools = FfmpegTools.Locate(VideoTestSupport.RequireFfmpeg());

        Assert.Equal(("mov", "MP4/MOV"), Demuxer(fixture.PanClip));
        Assert.Equal(("matroska", "Matroska/WebM"), Demuxer(mkv));
        Assert.Equal(("avi", "AVI"), Demuxer(avi));
        Assert.Equal(320, VideoProbe.Probe(tools, mkv).Width);
        Assert.Equal(320, VideoProbe.Probe(tools, avi).Width);

        static (string, string) Demuxer(string path) => (VideoContainer.Of(path).Demuxer, VideoContainer.Of(path).Kind);
    }

    /// <summary>
    /// ffprobe and ffmpeg open a decoder per stream before reporting anything: 1,000 copies of one video stream in a 2 MB
    /// Matroska file took ffprobe 38 s and ffmpeg 1.6 GB. The streams are counted from the container's own headers first.
    /// </summary>
    [VideoFact(VideoFixture.Photo)]
    public void More_streams_than_the_limit_are_refused_from_the_container_headers_before_ffprobe_runs()
    {
        using var folder = new TemporaryDirectory();
        var maps = Enumerable.Repeat(new[] { "-map", "0:v:0" }, VideoContainer.MaxStreams + 1).SelectMany(m => m).ToArray();
        foreach (var (name, muxer) in new[] { ("many.mp4", "mp4"), ("many.mkv", "matroska"), ("many.avi", "avi") })
        {
            string path = folder.File(name);
            VideoTestSupport.Ffmpeg(["-i", fixture.PanClip, .. maps, "-c", "copy", "-f", muxer, path]);
            var clock = System.Diagnostics.Stopwatch.StartNew();

            var error = Assert.Throws<VideoException>(() => VideoContainer.Of(path));

            output.WriteLine($"{name}: {clock.ElapsedMilliseconds} ms: {error.Message}");
            Assert.Contains($"declares {VideoContainer.MaxStreams + 1} streams", error.Message);
            Assert.Contains(name, error.Message);
        }
    }

    /// <summary>
    /// A Matroska file written live has no duration and no frame count, so the probe's limits saw 0 s and 0 frames and
    /// every frame was decoded and restored however long it ran. Now decoding stops at the limit.
    /// </summary>
    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void A_video_whose_header_gives_no_length_is_stopped_at_the_frame_limit_and_leaves_nothing()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        string live = folder.File("live.mkv");
        VideoTestSupport.Ffmpeg("-i", fixture.PanClip, "-c", "copy", "-live", "1", "-f", "matroska", live);
        var tools = FfmpegTools.Locate(VideoTestSupport.RequireFfmpeg());
        var limits = new VideoLimits { MaxFrames = 10 };
        var claimed = VideoProbe.Probe(tools, live);
        limits.Check(claimed, live);
        string target = folder.File("restored.mkv");

        var error = Assert.Throws<VideoException>(() => restorer.Restore(live, target, new VideoOptions { Limits = limits }));

        output.WriteLine(error.Message);
        Assert.Equal((0, 0.0), (claimed.FrameCount, claimed.DurationSeconds));
        Assert.Contains("goes on past 10 frames", error.Message);
        Assert.Contains("header gives no length", error.Message);
        Assert.Equal([live], Directory.GetFiles(folder.Path));
    }

    /// <summary>
    /// A name ffmpeg would read as an option ("-y…"), with shell and console-markup characters and a newline: it is passed
    /// as a file: URL in an argument list (never a shell), so the clip is restored under a name of its own.
    /// </summary>
    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void A_clip_named_like_an_option_with_shell_and_markup_characters_and_a_newline_is_restored()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        string hostile = folder.File("-y [bold]$(touch pwned);a:b\nc.mp4");
        File.Copy(fixture.PanClip, hostile);
        string target = folder.File("-out [red]\n.mp4");

        var result = restorer.Restore(hostile, target, new VideoOptions());

        Assert.Equal(30, result.Frames);
        Assert.True(File.Exists(target));
        Assert.Equal(320, VideoProbe.Probe(FfmpegTools.Locate(VideoTestSupport.RequireFfmpeg()), target).Width);
        Assert.False(File.Exists(Path.Combine(folder.Path, "pwned")));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "pwned")));
        Assert.Equal(2, Directory.GetFiles(folder.Path).Length);
    }
}
