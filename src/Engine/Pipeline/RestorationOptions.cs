using CodeFormer.Engine.Tasks;

namespace CodeFormer.Engine.Pipeline;

/// <summary>Per-photo options of a restoration run; defaults follow the official CLI (reference doc B.1).</summary>
public sealed record RestorationOptions
{
    /// <summary>
    /// What the network is asked to do. The whole-photo <see cref="RestorationEngine"/> restores; colorize and inpaint run
    /// on aligned faces through <see cref="FaceTaskEngine"/> with their own checkpoints and fixed w (doc B.11).
    /// A job contract carries this field so that a host can route the job to the right engine.
    /// </summary>
    public FaceTask Task { get; init; } = FaceTask.Restore;

    /// <summary>Fidelity weight w: 0 favours quality (pure codebook), 1 fidelity to the input. Default 0.5 as the official CLI.</summary>
    public double Fidelity { get; init; } = 0.5;

    /// <summary>Final upscale factor s of the whole photo, 1–4 (default 2, as the official CLI).</summary>
    public int Upscale { get; init; } = 2;

    /// <summary>The input is already an aligned face crop: resize to the model's face size, no detection, no paste-back.</summary>
    public bool InputIsAligned { get; init; }

    /// <summary>Keep only the face whose box centre is closest to the image centre.</summary>
    public bool OnlyCenterFace { get; init; }

    /// <summary>Keep at most this many faces (highest scores first); null keeps all.</summary>
    public int? MaxFaces { get; init; }

    /// <summary>Drop faces whose box's short side is below this many pixels (in input-image pixels).</summary>
    public float MinFaceSize { get; init; }

    /// <summary>Draw a green box around each restored face (reference --draw_box).</summary>
    public bool DrawBox { get; init; }

    /// <summary>Upscale the background with Real-ESRGAN instead of bilinear resizing (needs a background model).</summary>
    public bool BackgroundUpsample { get; init; }

    /// <summary>Run the background upsampler on each restored face too (reference --face_upsample).</summary>
    public bool FaceUpsample { get; init; }

    /// <summary>Output encoding; null keeps the input's format.</summary>
    public ImageFileFormat? OutputFormat { get; init; }

    public int JpegQuality { get; init; } = 95;

    /// <summary>Also return each face's aligned input crop and restored crop (PNG).</summary>
    public bool IncludeFaceImages { get; init; }

    /// <summary>Also return a side-by-side before/after image (PNG).</summary>
    public bool IncludeComparison { get; init; }

    /// <summary>Throws naming the first option out of range, before any work is done.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Task))
        {
            throw new ArgumentOutOfRangeException(nameof(Task), Task, "Task must be restore, colorize or inpaint.");
        }
        if (!double.IsFinite(Fidelity) || Fidelity < 0 || Fidelity > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Fidelity), Fidelity, "Fidelity weight w must be in [0, 1].");
        }
        if (Upscale is < 1 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(Upscale), Upscale, "Upscale factor must be 1, 2, 3 or 4.");
        }
        if (MaxFaces is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFaces), MaxFaces, "Max faces must be at least 1.");
        }
        if (MinFaceSize < 0 || !float.IsFinite(MinFaceSize))
        {
            throw new ArgumentOutOfRangeException(nameof(MinFaceSize), MinFaceSize, "Minimum face size must be a non-negative number of pixels.");
        }
        if (JpegQuality is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(JpegQuality), JpegQuality, "JPEG quality must be in 1–100.");
        }
        if (FaceUpsample && !BackgroundUpsample)
        {
            // The reference reuses the background upsampler for faces; we need its model either way.
            throw new ArgumentException("Face upsampling needs the background upsampler (enable background upsampling and give its model).");
        }
    }
}
