using System.Diagnostics;
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
        var models = await SingleFaceModels.OpenAsync(FaceTaskProfile.Restore, settings, withDetector: true, notice, http, cancellationToken).ConfigureAwait(false);
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
        var info = VideoProbe.Probe(_tools, input, cancellationToken);
        options.Limits.Check(info, input);
        _oneAtATime.Wait(cancellationToken);
        try
        {
            return Run(input, output, info, options, progress, cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private VideoResult Run(string input, string output, VideoInfo info, VideoOptions options, IProgress<VideoProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int scale = options.Restoration.Upscale;
        int outWidth = info.Width * scale, outHeight = info.Height * scale;
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        string partial = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileNameWithoutExtension(output)}.partial-{Guid.NewGuid():N}{Path.GetExtension(output)}");
        Process? decoder = null, encoder = null;
        var decoderErrors = new StringBuilder();
        var encoderErrors = new StringBuilder();
        bool completed = false;
        try
        {
            decoder = FfmpegTools.Start(_tools.Ffmpeg,
                ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", input, "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                stdin: false, stdout: true);
            Drain(decoder, decoderErrors);
            encoder = FfmpegTools.Start(_tools.Ffmpeg, VideoEncoding.EncoderArguments(info, outWidth, outHeight, input, partial, options.Crf), stdin: true, stdout: false);
            Drain(encoder, encoderErrors);
            using var killOnCancel = cancellationToken.Register(() => { Kill(decoder); Kill(encoder); });

            var tracker = new FaceTracker(info.FramesPerSecond, options.Smoothing);
            var facesPerFrame = new List<int>();
            var tracked = options.RecordFaces ? new List<IReadOnlyList<TrackedFace>>() : null;
            int frameBytes = info.Width * info.Height * 3;
            var rawIn = new byte[frameBytes];
            var rawOut = new byte[outWidth * outHeight * 3];
            var frame = new RgbImage(info.Width, info.Height);
            var buffers = new FrameBuffers(3 * _restorer.FaceSize * _restorer.FaceSize);
            var source = decoder.StandardOutput.BaseStream;
            var sink = encoder.StandardInput.BaseStream;
            long count = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int read = source.ReadAtLeast(rawIn, frameBytes, throwOnEndOfStream: false);
                if (read == 0)
                {
                    break;
                }
                if (read < frameBytes)
                {
                    throw new VideoException($"'{input}' ended in the middle of frame {count + 1} ({read} of {frameBytes} bytes); the file may be truncated. {Tail(decoderErrors)}");
                }
                ToFloats(rawIn, frame.Pixels);
                var (restored, faces) = RestoreFrame(frame, tracker, options.Restoration, buffers, cancellationToken);
                ToBytes(restored.Pixels, rawOut);
                try
                {
                    sink.Write(rawOut);
                }
                catch (IOException error)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new VideoException($"The video encoder stopped: {Tail(encoderErrors)}", error);
                }
                count++;
                if (count % CollectEveryFrames == 0)
                {
                    // Each face allocates a few large crops (LOH), which only full collections free; left to its own
                    // heuristics the GC lets the heap creep up over a long video. A full collection every fifty
                    // frames costs milliseconds and keeps the peak flat whatever the length.
                    GC.Collect();
                }
                facesPerFrame.Add(faces.Count);
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
            File.Move(partial, output, overwrite: true);
            completed = true;
            return new VideoResult(output, info, count, facesPerFrame, tracked, clock.Elapsed.TotalSeconds, Process.GetCurrentProcess().PeakWorkingSet64);
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
            decoder?.Dispose();
            encoder?.Dispose();
        }
    }

    /// <summary>One frame through the photo pipeline's steps, with the tracker's (smoothed) landmarks for alignment.</summary>
    private const int CollectEveryFrames = 50;

    /// <summary>The network's input and output tensors, allocated once per video.</summary>
    private sealed record FrameBuffers(int Length)
    {
        public float[] Input { get; } = new float[Length];
        public float[] Output { get; } = new float[Length];
    }

    private (RgbImage Frame, IReadOnlyList<TrackedFace> Faces) RestoreFrame(RgbImage frame, FaceTracker tracker, RestorationOptions options, FrameBuffers buffers, CancellationToken cancellationToken)
    {
        var detections = FaceFilter.Apply(_detector.Detect(frame, cancellationToken),
            new FaceDetectionOptions { OnlyCenterFace = options.OnlyCenterFace, MaxFaces = options.MaxFaces, MinFaceSize = options.MinFaceSize },
            frame.Width, frame.Height);
        var faces = tracker.Update(detections);
        int scale = options.Upscale;
        if (faces.Count == 0)
        {
            return (scale == 1 ? frame : ImageResizer.ResizeBilinear(frame, frame.Width * scale, frame.Height * scale), faces);
        }
        int size = _restorer.FaceSize;
        bool greyscale = GreyscaleDetector.LooksGreyscale(frame);
        var input = buffers.Input;
        var output = buffers.Output;
        var toPaste = new List<FaceToPaste>(faces.Count);
        foreach (var face in faces)
        {
            var aligned = _aligner.Align(frame, face.Landmarks, size);
            FaceTensorLayout.Pack([aligned.Crop], input);
            _restorer.Restore(input, 1, options.Fidelity, output, cancellationToken);
            var restored = GreyscaleFaces.PrepareRestoredFace(FaceTensorLayout.Unpack(output, 0, size), greyscale, aligned.Crop);
            toPaste.Add(new FaceToPaste(restored, aligned.ImageToFace));
        }
        // At scale 1 the faces go straight into the decoded frame: every crop was taken above, and the next frame overwrites it.
        var canvas = scale == 1 ? frame : ImageResizer.ResizeBilinear(frame, frame.Width * scale, frame.Height * scale);
        _paster.PasteInPlace(canvas, toPaste, new PasteOptions { Upscale = scale, FaceSize = size, DrawBox = options.DrawBox });
        return (canvas, faces);
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
