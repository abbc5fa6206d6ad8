using CodeFormer.Engine.Pipeline;

namespace CodeFormer.Engine.Video;

/// <summary>How a video is restored: the per-face options of photos, plus smoothing, encoding and limits.</summary>
public sealed record VideoOptions
{
    /// <summary>Fidelity, upscale and face filters, as for photos (aligned input, background upsampling and face images do not apply).</summary>
    public RestorationOptions Restoration { get; init; } = new() { Upscale = 1 };

    /// <summary>Track faces and smooth their landmarks over time (One-Euro); false detects every frame on its own, as the reference.</summary>
    public bool Smoothing { get; init; } = true;

    /// <summary>Constant rate factor of the video encoder (0–51; lower is better and larger; 18 is visually near-lossless for H.264).</summary>
    public int Crf { get; init; } = 18;

    public VideoLimits Limits { get; init; } = new();

    /// <summary>Keep each frame's tracked faces (ids and landmarks used for alignment) in the result, for measurements and reports.</summary>
    public bool RecordFaces { get; init; }

    public void Validate()
    {
        Restoration.Validate();
        if (Restoration.InputIsAligned || Restoration.BackgroundUpsample || Restoration.FaceUpsample)
        {
            throw new ArgumentException("Videos are restored as whole frames with a bilinear background: aligned input and Real-ESRGAN upsampling do not apply.");
        }
        if (Crf is < 0 or > 51)
        {
            throw new ArgumentOutOfRangeException(nameof(Crf), Crf, "CRF must be in 0–51.");
        }
    }
}

/// <summary>Progress of a video: frames done of the total (from the probe), speed and the time left at that speed.</summary>
public sealed record VideoProgress(long Frame, long TotalFrames, double FramesPerSecond, TimeSpan? Remaining);

/// <summary>What a video run produced.</summary>
/// <param name="Faces">How many faces the frames had (running counts: nothing is kept per frame unless RecordFaces).</param>
/// <param name="TrackedFaces">Each frame's tracked faces, when <see cref="VideoOptions.RecordFaces"/>.</param>
/// <param name="PeakWorkingSetBytes">
/// This process's peak working set while the video ran (the ffmpeg processes are not counted): the high-water mark is
/// reset when the video starts where the system allows it (Linux), else it is the process's peak so far.
/// </param>
/// <param name="PeakIsThisVideos">True when the peak was reset at the start, so it belongs to this video alone.</param>
public sealed record VideoResult(string OutputPath, VideoInfo Input, long Frames, VideoFaceCounts Faces,
    IReadOnlyList<IReadOnlyList<TrackedFace>>? TrackedFaces, double Seconds, long PeakWorkingSetBytes, bool PeakIsThisVideos)
{
    public double FramesPerSecond => Seconds > 0 ? Frames / Seconds : 0;
}

/// <summary>Faces over a whole video, in constant space however long it is.</summary>
/// <param name="FramesWithFaces">Frames in which at least one face was restored.</param>
/// <param name="Fewest">Fewest faces restored in one frame.</param>
/// <param name="Most">Most faces restored in one frame.</param>
/// <param name="Total">Faces restored over all frames.</param>
public sealed record VideoFaceCounts(long FramesWithFaces, int Fewest, int Most, long Total)
{
    public double Average(long frames) => frames > 0 ? (double)Total / frames : 0;
}

/// <summary>Folds each frame's face count into <see cref="VideoFaceCounts"/>.</summary>
internal sealed class FaceCountsBuilder
{
    private long _framesWithFaces, _total, _frames;
    private int _fewest = int.MaxValue, _most;

    public void Add(int faces)
    {
        _frames++;
        _total += faces;
        _framesWithFaces += faces > 0 ? 1 : 0;
        _fewest = Math.Min(_fewest, faces);
        _most = Math.Max(_most, faces);
    }

    public VideoFaceCounts Build() => new(_framesWithFaces, _frames == 0 ? 0 : _fewest, _most, _total);
}
