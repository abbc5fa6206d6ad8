using System.Diagnostics;
using System.Text.Json;
using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Tests.Pipeline;
using CodeFormer.Engine.Video;
using CodeFormer.Imaging;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace CodeFormer.Engine.Tests.Video;

/// <summary>Clips made once per class by ffmpeg from a shared photo, a tiny random CodeFormer and the real YuNet.</summary>
public sealed class VideoFixture : IDisposable
{
    public const string Photo = "images/grace_hopper_517x606.jpg";
    public const string YuNet = "models/face_detection_yunet_2023mar.onnx";

    private readonly TemporaryDirectory _folder = new();
    private readonly Lazy<string> _panClip, _stillClip, _tinyModel;

    public VideoFixture()
    {
        _panClip = new(() => Clip("pan.mp4", still: false));
        _stillClip = new(() => Clip("still.mp4", still: true));
        _tinyModel = new(() =>
        {
            string path = _folder.File("tiny.onnx");
            var tiny = CodeFormerArchitecture.Tiny;
            CodeFormerOnnxExporter.WriteFile(tiny, RandomWeights.Create(new ParameterLayout(new NetworkLayout(tiny)), 7), path, new CodeFormerExportOptions());
            return path;
        });
    }

    public SessionOptions SessionOptions { get; } = new() { IntraOpNumThreads = 2 };

    /// <summary>3 s at 10 fps, 320 × 240, slow pan and zoom, 440 Hz tone.</summary>
    public string PanClip => _panClip.Value;

    /// <summary>3 s at 10 fps of a still face with temporal noise.</summary>
    public string StillClip => _stillClip.Value;

    public string Folder => _folder.Path;

    public VideoRestorer Restorer(Func<IFaceDetector, IFaceDetector>? wrapDetector = null)
    {
        IFaceDetector detector = new YuNetDetector(TestAssets.PathOf(YuNet), SessionOptions, new FaceDetectionOptions { ReuseBuffers = true });
        return new(CodeFormerSession.Open(_tinyModel.Value, SessionOptions, maxBatch: 1), wrapDetector?.Invoke(detector) ?? detector,
            FfmpegTools.Locate(VideoTestSupport.RequireFfmpeg()));
    }

    private string Clip(string name, bool still)
    {
        string path = _folder.File(name);
        VideoTestSupport.MakeClip(TestAssets.PathOf(Photo), path, seconds: 3, fps: 10, still: still);
        return path;
    }

    public void Dispose()
    {
        SessionOptions.Dispose();
        _folder.Dispose();
    }
}

public sealed class VideoRestorerTests(VideoFixture fixture, ITestOutputHelper output) : IClassFixture<VideoFixture>
{
    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void A_clip_keeps_frames_rate_duration_and_audio_and_every_frame_gets_its_face_restored()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        string target = folder.File("restored.mp4");
        var reports = new List<VideoProgress>();

        var result = restorer.Restore(fixture.PanClip, target, new VideoOptions(), new SynchronousProgress<VideoProgress>(reports.Add));

        var before = Probe(fixture.PanClip);
        var after = Probe(target);
        output.WriteLine($"{result.Frames} frames in {result.Seconds:F1} s ({result.FramesPerSecond:F1} frames/s); faces per frame: {result.Faces}");
        Assert.Equal(30, result.Frames);
        Assert.Equal(before.Frames, after.Frames);
        Assert.Equal(before.Rate, after.Rate);
        Assert.InRange(after.Duration, before.Duration - 0.05, before.Duration + 0.05);
        Assert.Equal("aac", after.Audio);
        Assert.Equal("h264", after.Codec);
        Assert.Equal((320, 240), (after.Width, after.Height));
        // Every frame has Hopper's face restored (YuNet may also report a second, spurious face on the flag in some frames).
        Assert.InRange(result.Faces.Fewest, 1, 2);
        Assert.InRange(result.Faces.Most, 1, 2);
        Assert.Equal(30, reports.Count);
        Assert.Equal(30, reports[^1].Frame);
        Assert.Equal(TimeSpan.Zero, reports[^1].Remaining);
        Assert.Single(Directory.GetFiles(folder.Path));
        // The faces really were replaced: the tiny random network's output differs clearly from the input frames.
        Assert.True(MeanFrameDifference(fixture.PanClip, target) > 2, "The restored clip looks like the input: were the faces pasted?");
    }

    /// <summary>
    /// A phone-style clip: frames stored sideways (240 × 320) with a display rotation, so that players show the face
    /// upright. Faces must be found on the upright frames, and the output keeps the stored orientation and the rotation.
    /// </summary>
    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void A_rotated_clip_is_restored_upright_and_keeps_its_stored_orientation_and_rotation()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        string sideways = folder.File("sideways.mp4"), rotated = folder.File("rotated.mp4"), target = folder.File("restored.mp4");
        // transpose=clock stores the upright pan clip turned so that a display rotation of 90 shows it upright again;
        // ffmpeg 5.1 writes the rotation only on a stream copy, hence two steps.
        VideoTestSupport.Ffmpeg("-i", fixture.PanClip, "-vf", "transpose=clock", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "copy", sideways);
        VideoTestSupport.Ffmpeg("-i", sideways, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated);
        var input = Probe(rotated);
        Assert.True(input.Rotation != 0, "The test clip did not get a rotation; ffmpeg did not write the display matrix.");
        Assert.Equal((240, 320), StoredSize(rotated));

        var result = restorer.Restore(rotated, target, new VideoOptions());

        var after = Probe(target);
        output.WriteLine($"input: stored {StoredSize(rotated)}, rotation {input.Rotation}; output: stored {StoredSize(target)}, rotation {after.Rotation}; faces: {result.Faces}");
        Assert.Equal(input.Rotation, after.Rotation);
        Assert.Equal(StoredSize(rotated), StoredSize(target));
        Assert.Equal((320, 240), (after.Width, after.Height));
        Assert.Equal(input.Frames, after.Frames);
        Assert.Equal(30, result.Frames);
        // Hopper's face is found in every frame only when the frames are upright (sideways, YuNet misses it).
        Assert.Equal(30, result.Faces.FramesWithFaces);
        double difference = MeanFrameDifference(rotated, target);
        output.WriteLine($"mean difference of the displayed middle frames: {difference:F1} levels");
        Assert.True(difference > 2, "The restored clip looks like the input: were the faces pasted?");
        // Displayed the same way up: the input's picture matches the output better as it is than turned or mirrored
        // (the tiny random network repaints the face, so the match is not close, but the background decides).
        foreach (var turn in new[] { "hflip,vflip", "hflip", "vflip" })
        {
            double turned = MeanFrameDifference(target, rotated, turn);
            output.WriteLine($"… against the input {turn}: {turned:F1} levels");
            Assert.True(difference < turned, $"The output matches the input better after {turn} ({turned:F1} vs {difference:F1} levels): it is displayed turned.");
        }
        Assert.Equal(new[] { "restored.mp4", "rotated.mp4", "sideways.mp4" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// As the photo pipeline (reference read_image): a frame whose short side is under 512 is enlarged to a 512 short
    /// side before detection; the output keeps the video's frame size, and the faces come back in frame pixels.
    /// </summary>
    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void Frames_under_512_pixels_are_enlarged_for_detection_and_written_at_their_own_size()
    {
        var seen = new List<(int Width, int Height)>();
        using var restorer = fixture.Restorer(detector => new SizeRecordingDetector(detector, seen));
        using var folder = new TemporaryDirectory();
        string small = folder.File("small.mp4"), target = folder.File("restored.mp4");
        VideoTestSupport.MakeClip(TestAssets.PathOf(VideoFixture.Photo), small, seconds: 1, fps: 10, width: 160, height: 120);

        var result = restorer.Restore(small, target, new VideoOptions { RecordFaces = true });

        var after = Probe(target);
        output.WriteLine($"detector saw {string.Join(", ", seen.Distinct())}; output {after.Width}×{after.Height}; faces: {result.Faces}");
        // cvRound(160 · 512/120) = 683, as the photo pipeline's enlargement.
        Assert.All(seen, size => Assert.Equal((683, 512), size));
        Assert.Equal(10, seen.Count);
        Assert.Equal((160, 120), (after.Width, after.Height));
        Assert.Equal(10, result.Faces.FramesWithFaces);
        // Landmarks are reported (and used) in frame pixels: the eyes of a face that fills much of a 160 × 120 frame lie inside it.
        foreach (var face in result.TrackedFaces!.SelectMany(f => f))
        {
            Assert.All(face.Landmarks, p => Assert.True(p.X is >= 0 and < 160 && p.Y is >= 0 and < 120, $"Landmark {p} is outside the 160 × 120 frame."));
        }
    }

    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void Smoothing_lowers_the_landmark_jitter_of_a_still_face()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();

        var smoothed = restorer.Restore(fixture.StillClip, folder.File("smooth.mp4"), new VideoOptions { RecordFaces = true, Smoothing = true });
        var raw = restorer.Restore(fixture.StillClip, folder.File("raw.mp4"), new VideoOptions { RecordFaces = true, Smoothing = false });

        double smoothJitter = Jitter(smoothed), rawJitter = Jitter(raw);
        output.WriteLine($"landmark jitter of a still face (mean |Δ| per landmark between frames): {rawJitter:F3} px per-frame, {smoothJitter:F3} px smoothed");
        Assert.True(rawJitter > 0, "The detector's landmarks did not move at all; the clip's noise should make them jitter.");
        Assert.True(smoothJitter < rawJitter, $"Smoothing did not lower the jitter: {smoothJitter:F3} px smoothed vs {rawJitter:F3} px per-frame.");
    }

    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void Cancelling_leaves_nothing_under_the_output_name()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        using var cancel = new CancellationTokenSource();
        string target = folder.File("cancelled.mp4");

        Assert.ThrowsAny<OperationCanceledException>(() => restorer.Restore(fixture.PanClip, target, new VideoOptions(),
            new SynchronousProgress<VideoProgress>(p => { if (p.Frame == 5) cancel.Cancel(); }), cancel.Token));

        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void A_corrupt_video_is_refused_clearly_and_leaves_nothing()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        string corrupt = folder.File("corrupt.mp4");
        File.WriteAllBytes(corrupt, [.. File.ReadAllBytes(fixture.PanClip).Take(3000)]);
        string target = Path.Combine(folder.Path, "out", "restored.mp4");

        var error = Assert.Throws<VideoException>(() => restorer.Restore(corrupt, target, new VideoOptions()));

        output.WriteLine(error.Message);
        Assert.Contains("corrupt.mp4", error.Message);
        Assert.Contains("not a readable video", error.Message);
        Assert.False(Directory.Exists(Path.GetDirectoryName(target)) && Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(target)!).Any());
    }

    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void A_video_over_the_limits_is_refused_before_decoding()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        string target = folder.File("restored.mp4");

        var tooLong = Assert.Throws<VideoException>(() => restorer.Restore(fixture.PanClip, target, new VideoOptions { Limits = new VideoLimits { MaxDurationSeconds = 1 } }));
        var tooLarge = Assert.Throws<VideoException>(() => restorer.Restore(fixture.PanClip, target, new VideoOptions { Limits = new VideoLimits { MaxSide = 200 } }));
        var tooMany = Assert.Throws<VideoException>(() => restorer.Restore(fixture.PanClip, target, new VideoOptions { Limits = new VideoLimits { MaxFrames = 10 } }));

        Assert.Contains("lasts 3.0 s", tooLong.Message);
        Assert.Contains("320 × 240", tooLarge.Message);
        Assert.Contains("30 frames", tooMany.Message);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Missing_ffmpeg_is_a_clear_error_with_the_fix()
    {
        using var empty = new TemporaryDirectory();

        var onPath = Assert.Throws<VideoException>(() => FfmpegTools.Locate(pathVariable: empty.Path));
        var explicitPath = Assert.Throws<VideoException>(() => FfmpegTools.Locate(empty.File("ffmpeg")));

        Assert.Contains("ffmpeg", onPath.Message);
        Assert.Contains("apt-get install ffmpeg", onPath.Message);
        Assert.Contains("--ffmpeg", onPath.Message);
        Assert.Contains(empty.File("ffmpeg"), explicitPath.Message);
    }

    [Fact]
    public void One_euro_filter_settles_on_a_still_value_and_follows_a_moving_one()
    {
        var still = new OneEuroFilter(FaceTracker.MinCutoffHz, FaceTracker.Beta);
        var random = new Random(1);
        double rawSpread = 0, filteredSpread = 0, previousRaw = 100, previousFiltered = 100;
        for (int i = 0; i < 200; i++)
        {
            double raw = 100 + random.NextDouble() * 2 - 1;
            double filtered = still.Filter(raw, 0.04);
            if (i > 20)
            {
                rawSpread += Math.Abs(raw - previousRaw);
                filteredSpread += Math.Abs(filtered - previousFiltered);
            }
            previousRaw = raw;
            previousFiltered = filtered;
        }
        Assert.True(filteredSpread < rawSpread / 3, $"still: filtered moved {filteredSpread:F2}, raw {rawSpread:F2}");

        var moving = new OneEuroFilter(FaceTracker.MinCutoffHz, FaceTracker.Beta);
        double last = 0;
        for (int i = 0; i < 100; i++)
        {
            last = moving.Filter(10.0 * i, 0.04);
        }
        Assert.InRange(last, 990 - 30, 990);
    }

    private static double Jitter(VideoResult result)
    {
        var frames = result.TrackedFaces!;
        double total = 0;
        int count = 0;
        for (int f = 1; f < frames.Count; f++)
        {
            if (frames[f].Count == 0 || frames[f - 1].Count == 0)
            {
                continue;
            }
            // The real face: the largest box (YuNet sometimes adds a small spurious one); compared within its own track.
            var previous = frames[f - 1].MaxBy(t => t.Detection.Width * t.Detection.Height)!;
            var current = frames[f].MaxBy(t => t.Detection.Width * t.Detection.Height)!;
            if (previous.TrackId != current.TrackId)
            {
                continue;
            }
            var a = previous.Landmarks;
            var b = current.Landmarks;
            for (int i = 0; i < 5; i++)
            {
                total += (a[i] - b[i]).Length();
                count++;
            }
        }
        Assert.True(count > 0, "No consecutive frames with a face.");
        return total / count;
    }

    private static (long Frames, string Rate, double Duration, string? Audio, string Codec, int Width, int Height, int Rotation) Probe(string path)
    {
        var info = VideoProbe.Probe(FfmpegTools.Locate(VideoTestSupport.RequireFfmpeg()), path);
        return (info.FrameCount, info.FrameRate, info.DurationSeconds, info.AudioCodec, info.VideoCodec, info.Width, info.Height, info.Rotation);
    }

    /// <summary>The frame size as stored in the file (before any display rotation), from ffprobe.</summary>
    private static (int Width, int Height) StoredSize(string path)
    {
        var start = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", path })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var parts = process.StandardOutput.ReadToEnd().Trim().Split(',');
        process.WaitForExit();
        return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Mean absolute difference of the two clips' middle frames, decoded by ffmpeg to raw RGB.</summary>
    private static double MeanFrameDifference(string a, string b, string? turnB = null)
    {
        byte[] Frame(string path, string? turn)
        {
            var start = new ProcessStartInfo(VideoTestSupport.RequireFfmpeg()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "-loglevel", "error", "-i", path, "-vf", "select=eq(n\\,15)" + (turn is null ? "" : "," + turn), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1" })
            {
                start.ArgumentList.Add(arg);
            }
            using var process = Process.Start(start)!;
            using var memory = new MemoryStream();
            process.StandardOutput.BaseStream.CopyTo(memory);
            process.WaitForExit();
            return memory.ToArray();
        }
        byte[] x = Frame(a, null), y = Frame(b, turnB);
        Assert.Equal(x.Length, y.Length);
        return x.Zip(y, (p, q) => Math.Abs(p - q)).Average();
    }
}

/// <summary>Allocation measurements of the video path, in the collection that runs alone (other tests allocate too).</summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class VideoAllocationTests(VideoFixture fixture, ITestOutputHelper output) : IClassFixture<VideoFixture>
{
    /// <summary>
    /// The root of a flat peak: after the first frames, a frame allocates none of the frame- or face-sized buffers of
    /// detection (resized copies, tensors, outputs), alignment, the network or the restored face; they are reused, so
    /// nothing frame-sized piles up on the large-object heap between full collections, however long the video. What
    /// is still allocated per face is the paste-back's footprint masks (erode and blur planes of the face's bounding box
    /// on the frame: about 2.8 MiB a frame here, where the face fills the 320 × 240 frame); before the reuse it was about
    /// 30 MiB a frame. Measured as managed bytes allocated over frames 10–30 (all threads), so it runs alone, after the parallel tests.
    /// </summary>
    [VideoFact(VideoFixture.Photo, VideoFixture.YuNet)]
    public void After_the_first_frames_a_frame_allocates_only_its_paste_back_footprint()
    {
        using var restorer = fixture.Restorer();
        using var folder = new TemporaryDirectory();
        long atFrame10 = 0, atFrame30 = 0;

        var result = restorer.Restore(fixture.StillClip, folder.File("restored.mp4"), new VideoOptions(), new SynchronousProgress<VideoProgress>(p =>
        {
            if (p.Frame == 10)
            {
                atFrame10 = GC.GetTotalAllocatedBytes(precise: true);
            }
            else if (p.Frame == 30)
            {
                atFrame30 = GC.GetTotalAllocatedBytes(precise: true);
            }
        }));

        double perFrame = (atFrame30 - atFrame10) / 20.0;
        long frameFloats = 320L * 240 * 3 * sizeof(float);
        output.WriteLine($"managed allocation per frame over frames 10–30: {perFrame / 1024:F1} KiB (a frame's float pixels: {frameFloats / 1024} KiB; " +
            $"the detector's 853 × 640 copy alone: 6,396 KiB; a 512² face crop: 3,072 KiB); faces: {result.Faces}");
        Assert.Equal(30, result.Frames);
        Assert.Equal(30, result.Faces.FramesWithFaces);
        // Four frames' worth of floats: the paste footprint fits, any one reused buffer coming back (detector copy,
        // tensor, crop, restored face) does not.
        Assert.True(perFrame < 4 * frameFloats, $"Each frame allocated {perFrame / 1024:F1} KiB of managed memory; the detector, crop and face buffers should be reused.");
    }
}

/// <summary>The real detector, noting the size of every image it is given.</summary>
internal sealed class SizeRecordingDetector(IFaceDetector inner, List<(int Width, int Height)> seen) : IFaceDetector
{
    public IReadOnlyList<DetectedFace> Detect(RgbImage image, CancellationToken cancellationToken = default)
    {
        seen.Add((image.Width, image.Height));
        return inner.Detect(image, cancellationToken);
    }

    public void Dispose() => inner.Dispose();
}

/// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; posts them later).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

