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
/// <param name="FacesPerFrame">How many faces were restored in each frame.</param>
/// <param name="TrackedFaces">Each frame's tracked faces, when <see cref="VideoOptions.RecordFaces"/>.</param>
/// <param name="PeakWorkingSetBytes">This process's peak working set when the video was done (the ffmpeg processes are not counted).</param>
public sealed record VideoResult(string OutputPath, VideoInfo Input, long Frames, IReadOnlyList<int> FacesPerFrame,
    IReadOnlyList<IReadOnlyList<TrackedFace>>? TrackedFaces, double Seconds, long PeakWorkingSetBytes)
{
    public double FramesPerSecond => Seconds > 0 ? Frames / Seconds : 0;
}
