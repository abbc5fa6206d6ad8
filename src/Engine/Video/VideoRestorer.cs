using System.Diagnostics;
using System.Numerics;
using System.Text;
using CodeFormer.Engine.Compositing;
using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Tasks;

namespace CodeFormer.Engine.Video;

/// <summary>
/// Restores the faces of a video: ffprobe checks the limits first; ffmpeg decodes to raw RGB frames on a pipe, each frame
/// goes through detect → track and smooth → align → restore → paste back, and a second ffmpeg encodes the frames from a
/// pipe with the input's audio, frame rate and pixel aspect. Only a few frames are ever in memory, whatever the length.
/// The output appears under its final name only when complete: it is written to a hidden partial file, renamed at the
/// end, and deleted on failure or cancellation (Ctrl-C).
/// Built on the engine's public parts; one video at a time per instance.
/// </summary>
public sealed class VideoRestorer : IDisposable
{
    private readonly IFaceRestorer _restorer;
    private readonly IFaceDetector _detector;
    private readonly FfmpegTools _tools;
    private readonly IReadOnlyList<IDisposable> _ownedResources;
    private readonly FaceAligner _aligner = new();
    private readonly FacePaster _paster = new();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public VideoRestorer(IFaceRestorer restorer, IFaceDetector detector, FfmpegTools tools, IReadOnlyList<IDisposable>? ownedResources = null)
    {
        _restorer = restorer ?? throw new ArgumentNullException(nameof(restorer));
        _detector = detector ?? throw new ArgumentNullException(nameof(detector));
        _tools = tools ?? throw new ArgumentNullException(nameof(tools));
        _ownedResources = ownedResources ?? [];
    }

    /// <summary>As <see cref="RestorationEngineFactory"/> for photos: the CodeFormer model and the detector from settings (cache, download, conversion).</summary>
    public static async Task<VideoRestorer> CreateAsync(EngineSettings settings, FfmpegTools tools, Action<string>? notice = null, HttpClient? http = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        notice ??= _ => { };
        // Every frame has the same size: the detector keeps its working arrays from frame to frame.
        var models = await SingleFaceModels.OpenAsync(FaceTaskProfile.Restore, settings, withDetector: true, notice, http, cancellationToken,
            new FaceDetectionOptions { ReuseBuffers = true }).ConfigureAwait(false);
        return new VideoRestorer(models.Restorer, models.Detector!, tools, [models.SessionOptions]);
    }

    public static bool IsVideoPath(string path) => VideoEncoding.IsVideoPath(path);

    public Task<VideoResult> RestoreAsync(string inputPath, string outputPath, VideoOptions options, IProgress<VideoProgress>? progress = null, CancellationToken cancellationToken = default)
        => Task.Run(() => Restore(inputPath, outputPath, options, progress, cancellationToken), cancellationToken);

    public VideoResult Restore(string inputPath, string outputPath, VideoOptions options, IProgress<VideoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string input = Path.GetFullPath(inputPath), output = Path.GetFullPath(outputPath);
        if (!VideoEncoding.IsVideoPath(output))
        {
            throw new ArgumentException($"Output '{output}' must end in one of {string.Join(", ", VideoEncoding.MuxerByExtension.Keys)}.");
        }
        // Everything about the video is checked before a single frame is decoded.
        // The container is sniffed and pinned first, so a playlist or concat script named .mp4 never reaches ffmpeg as one.
        var container = VideoContainer.Of(input);
        var info = VideoProbe.Probe(_tools, container, cancellationToken);
        options.Limits.Check(info, input);
        _oneAtATime.Wait(cancellationToken);
        try
        {
            return Run(container, output, info, options, progress, cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private VideoResult Run(VideoContainer container, string output, VideoInfo info, VideoOptions options, IProgress<VideoProgress>? progress, CancellationToken cancellationToken)
    {
        string input = container.Path;
        var clock = Stopwatch.StartNew();
        bool peakIsThisVideos = PeakResidentMemory.TryReset();
        int scale = options.Restoration.Upscale;
        int outWidth = info.Width * scale, outHeight = info.Height * scale;
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        string partial = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileNameWithoutExtension(output)}.partial-{Guid.NewGuid():N}{Path.GetExtension(output)}");
        // A rotated input is encoded in its stored orientation into a second hidden file, then copied into the partial
        // file with its rotation (ffmpeg 5.1 writes the rotation only on a stream copy).
        var orientation = VideoEncoding.StoredOrientation.For(info.Rotation, VideoEncoding.MuxerByExtension[Path.GetExtension(output)]);
        string encoded = orientation is null ? partial : Path.ChangeExtension(partial, ".unrotated" + Path.GetExtension(output));
        Process? decoder = null, encoder = null;
        var decoderErrors = new StringBuilder();
        var encoderErrors = new StringBuilder();
        bool completed = false;
        try
        {
            decoder = FfmpegTools.Start(_tools.Ffmpeg,
                ["-hide_banner", "-loglevel", "error", "-nostdin", .. container.InputArguments(), "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                stdin: false, stdout: true);
            Drain(decoder, decoderErrors);
            encoder = FfmpegTools.Start(_tools.Ffmpeg, VideoEncoding.EncoderArguments(info, outWidth, outHeight, container, encoded, options.Crf), stdin: true, stdout: false);
            Drain(encoder, encoderErrors);
            using var killOnCancel = cancellationToken.Register(() => { Kill(decoder); Kill(encoder); });

            var tracker = new FaceTracker(info.FramesPerSecond, options.Smoothing);
            // Per-frame facts are folded into running counts; only RecordFaces (tests, measurements) keeps a list per frame.
            var faceCounts = new FaceCountsBuilder();
            var tracked = options.RecordFaces ? new List<IReadOnlyList<TrackedFace>>() : null;
            var work = new FrameWorkspace(info.Width, info.Height, scale, _restorer.FaceSize);
            int frameBytes = work.RawIn.Length;
            var source = decoder.StandardOutput.BaseStream;
            var sink = encoder.StandardInput.BaseStream;
            long count = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int read = source.ReadAtLeast(work.RawIn, frameBytes, throwOnEndOfStream: false);
                if (read == 0)
                {
                    break;
                }
                if (read < frameBytes)
                {
                    throw new VideoException($"'{input}' ended in the middle of frame {count + 1} ({read} of {frameBytes} bytes); the file may be truncated. {Tail(decoderErrors)}");
                }
                options.Limits.CheckWhileDecoding(count + 1, info, input);
                ToFloats(work.RawIn, work.Frame.Pixels);
                var (restored, faces) = RestoreFrame(work, tracker, options.Restoration, cancellationToken);
                ToBytes(restored.Pixels, work.RawOut);
                try
                {
                    sink.Write(work.RawOut);
                }
                catch (IOException error)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new VideoException($"The video encoder stopped: {Tail(encoderErrors)}", error);
                }
                count++;
                faceCounts.Add(faces.Count);
                tracked?.Add(faces);
                double seconds = clock.Elapsed.TotalSeconds;
                double fps = count / Math.Max(seconds, 1e-9);
                long total = Math.Max(info.FrameCount, count);
                progress?.Report(new VideoProgress(count, total, fps, fps > 0 ? TimeSpan.FromSeconds((total - count) / fps) : null));
            }
            sink.Close();
            decoder.WaitForExit();
            encoder.WaitForExit();
            cancellationToken.ThrowIfCancellationRequested();
            if (decoder.ExitCode != 0)
            {
                throw new VideoException($"Could not decode '{input}': {Tail(decoderErrors)}");
            }
            if (count == 0)
            {
                throw new VideoException($"'{input}' has no decodable frame. {Tail(decoderErrors)}");
            }
            if (encoder.ExitCode != 0)
            {
                throw new VideoException($"Could not encode '{output}': {Tail(encoderErrors)}");
            }
            if (orientation is not null)
            {
                WriteRotation(encoded, partial, orientation, cancellationToken);
            }
            File.Move(partial, output, overwrite: true);
            completed = true;
            return new VideoResult(output, info, count, faceCounts.Build(), tracked, clock.Elapsed.TotalSeconds, PeakResidentMemory.Bytes(), peakIsThisVideos);
        }
        finally
        {
            if (!completed)
            {
                Kill(decoder);
                Kill(encoder);
                decoder?.WaitForExit();
                encoder?.WaitForExit();
                File.Delete(partial);
            }
            if (!ReferenceEquals(encoded, partial))
            {
                File.Delete(encoded);
            }
            decoder?.Dispose();
            encoder?.Dispose();
        }
    }

    /// <summary>
    /// One frame through the photo pipeline's steps, with the tracker's (smoothed) landmarks for alignment. Every frame- and
    /// face-sized buffer comes from the workspace (and the detector's own spares), so after the first frames a frame
    /// allocates none of them: nothing frame-sized piles up on the large-object heap between full collections, and the
    /// peak does not grow with the length of the video. Still allocated per face: the paste-back's masks over the face's
    /// box on the frame (FacePaster's erode and blur planes).
    /// </summary>
    private (RgbImage Frame, IReadOnlyList<TrackedFace> Faces) RestoreFrame(FrameWorkspace work, FaceTracker tracker, RestorationOptions options, CancellationToken cancellationToken)
    {
        var frame = work.Frame;
        var faces = tracker.Update(Detect(work, options, cancellationToken));
        int scale = options.Upscale;
        if (faces.Count == 0)
        {
            return (work.Canvas(), faces);
        }
        bool greyscale = GreyscaleDetector.LooksGreyscale(frame);
        var toPaste = work.ToPaste;
        toPaste.Clear();
        for (int i = 0; i < faces.Count; i++)
        {
            var aligned = _aligner.AlignInto(frame, faces[i].Landmarks, work.Crop(i));
            FaceTensorLayout.Pack([aligned.Crop], work.Input);
            _restorer.Restore(work.Input, 1, options.Fidelity, work.Output, cancellationToken);
            var restored = work.Restored(i);
            FaceTensorLayout.UnpackInto(work.Output, 0, restored);
            GreyscaleFaces.PrepareRestoredFaceInPlace(restored, greyscale, aligned.Crop);
            toPaste.Add(new FaceToPaste(restored, aligned.ImageToFace));
        }
        // As the photo pipeline: the network's activations (malloc'd by ONNX Runtime, hundreds of MiB for the full
        // model) were freed; hand them back to the system before the paste, or glibc keeps them resident and the
        // working set drifts with whichever thread's arena served the last frames.
        NativeHeap.Trim();
        // At scale 1 the faces go straight into the decoded frame: every crop was taken above, and the next frame overwrites it.
        var canvas = work.Canvas();
        _paster.PasteInPlace(canvas, toPaste, new PasteOptions { Upscale = scale, FaceSize = _restorer.FaceSize, DrawBox = options.DrawBox });
        return (canvas, faces);
    }

    /// <summary>
    /// Detection as the photo pipeline does it (reference B.2, facexlib read_image): a frame whose short side is under
    /// <see cref="RestorationEngine.MinimumShortSide"/> is enlarged (bilinear) to that short side first, because the
    /// detector misses small faces otherwise. Unlike a photo, the output keeps the video's frame size (an encoder cannot
    /// change it mid-stream, and a video's size is the user's choice), so the faces come back in frame pixels through
    /// the resize's pixel-centre mapping, and alignment and paste-back work on the frame itself.
    /// </summary>
    private IReadOnlyList<DetectedFace> Detect(FrameWorkspace work, RestorationOptions options, CancellationToken cancellationToken)
    {
        var frame = work.Frame;
        var view = work.DetectionView();
        if (!ReferenceEquals(view, frame))
        {
            ImageResizer.ResizeBilinearInto(frame, view);
        }
        var found = FaceFilter.Apply(_detector.Detect(view, cancellationToken),
            new FaceDetectionOptions
            {
                OnlyCenterFace = options.OnlyCenterFace,
                MaxFaces = options.MaxFaces,
                // The user's minimum is in frame pixels; detection ran on the (maybe enlarged) view.
                MinFaceSize = options.MinFaceSize * view.Width / frame.Width,
            },
            view.Width, view.Height);
        if (ReferenceEquals(view, frame))
        {
            return found;
        }
        // cv2.resize INTER_LINEAR maps pixel centres: view = (frame + 0.5)·f − 0.5 per axis.
        double fx = (double)view.Width / frame.Width, fy = (double)view.Height / frame.Height;
        float X(float viewX) => (float)((viewX + 0.5) / fx - 0.5);
        float Y(float viewY) => (float)((viewY + 0.5) / fy - 0.5);
        var inFrame = new List<DetectedFace>(found.Count);
        foreach (var face in found)
        {
            var landmarks = new Vector2[face.Landmarks.Count];
            for (int k = 0; k < landmarks.Length; k++)
            {
                landmarks[k] = new Vector2(X(face.Landmarks[k].X), Y(face.Landmarks[k].Y));
            }
            inFrame.Add(new DetectedFace(X(face.X1), Y(face.Y1), X(face.X2), Y(face.Y2), face.Score, landmarks));
        }
        return inFrame;
    }

    /// <summary>
    /// The frame- and face-sized buffers of one video, made on first use and reused for every frame: the raw pipe
    /// buffers, the frame, the enlarged detection view of a small frame, the upscaled canvas, the network's tensors, and
    /// one crop and one restored face per face slot (as many slots as the most faces one frame had).
    /// </summary>
    private sealed class FrameWorkspace(int width, int height, int scale, int faceSize)
    {
        private readonly List<RgbImage> _crops = [];
        private readonly List<RgbImage> _restored = [];
        private RgbImage? _canvas;
        private RgbImage? _detectionView;

        public byte[] RawIn { get; } = new byte[width * height * 3];
        public byte[] RawOut { get; } = new byte[width * scale * height * scale * 3];
        public RgbImage Frame { get; } = new(width, height);
        public float[] Input { get; } = new float[3 * faceSize * faceSize];
        public float[] Output { get; } = new float[3 * faceSize * faceSize];
        public List<FaceToPaste> ToPaste { get; } = [];

        /// <summary>The frame at s = 1; else the frame enlarged into the reused canvas (bilinear, as the photo pipeline).</summary>
        public RgbImage Canvas()
        {
            if (scale == 1)
            {
                return Frame;
            }
            _canvas ??= new RgbImage(width * scale, height * scale);
            ImageResizer.ResizeBilinearInto(Frame, _canvas);
            return _canvas;
        }

        /// <summary>What the detector sees: the frame, or for a short side under 512 a reused buffer of the enlarged size (filled by the caller).</summary>
        public RgbImage DetectionView()
        {
            int shortSide = Math.Min(width, height);
            if (shortSide >= RestorationEngine.MinimumShortSide)
            {
                return Frame;
            }
            if (_detectionView is null)
            {
                // Rounded as cv2.resize rounds fx·w (cvRound), as the photo pipeline's enlargement.
                double f = (double)RestorationEngine.MinimumShortSide / shortSide;
                _detectionView = new RgbImage((int)Math.Round(width * f), (int)Math.Round(height * f));
            }
            return _detectionView;
        }

        public RgbImage Crop(int face) => Slot(_crops, face);

        public RgbImage Restored(int face) => Slot(_restored, face);

        private RgbImage Slot(List<RgbImage> slots, int face)
        {
            while (slots.Count <= face)
            {
                slots.Add(new RgbImage(faceSize, faceSize));
            }
            return slots[face];
        }
    }

    private static void ToFloats(byte[] source, float[] destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = source[i];
        }
    }

    private static void ToBytes(float[] source, byte[] destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (byte)Math.Clamp(MathF.Round(source[i]), 0f, 255f);
        }
    }

    private void WriteRotation(string encoded, string partial, VideoEncoding.StoredOrientation orientation, CancellationToken cancellationToken)
    {
        using var copy = FfmpegTools.Start(_tools.Ffmpeg, VideoEncoding.RotationTagArguments(encoded, partial, orientation), stdin: false, stdout: false);
        var errors = new StringBuilder();
        Drain(copy, errors);
        using (cancellationToken.Register(() => Kill(copy)))
        {
            copy.WaitForExit();
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (copy.ExitCode != 0)
        {
            throw new VideoException($"Could not write the rotation ({orientation.RotateTag}°) into '{partial}': {Tail(errors)}");
        }
    }

    /// <summary>Reads a process's stderr as it comes, so a chatty ffmpeg never blocks on a full pipe; the tail goes into error messages.</summary>
    private static void Drain(Process process, StringBuilder sink)
    {
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (sink)
            {
                sink.AppendLine(e.Data);
                if (sink.Length > 8000)
                {
                    sink.Remove(0, sink.Length - 4000);
                }
            }
        };
        process.BeginErrorReadLine();
    }

    private static string Tail(StringBuilder errors)
    {
        lock (errors)
        {
            string text = errors.ToString().Trim();
            return text.Length == 0 ? "ffmpeg gave no message." : "ffmpeg said: " + (text.Length > 1000 ? text[^1000..] : text);
        }
    }

    private static void Kill(Process? process)
    {
        try
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        _restorer.Dispose();
        _detector.Dispose();
        foreach (var resource in _ownedResources)
        {
            resource.Dispose();
        }
        _oneAtATime.Dispose();
    }
}
