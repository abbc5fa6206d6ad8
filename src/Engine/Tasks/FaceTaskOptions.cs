namespace CodeFormer.Engine.Tasks;

/// <summary>Per-image options of a colorization or inpainting run (<see cref="FaceTaskEngine"/>).</summary>
public sealed record FaceTaskOptions
{
    /// <summary>Colorize or Inpaint; must be the task the engine's model was made for.</summary>
    public FaceTask Task { get; init; } = FaceTask.Colorize;

    /// <summary>
    /// The reference scripts take only aligned 512 × 512 faces. True: any other photo is searched for faces and the
    /// largest is aligned first (the output is then that aligned face). False: such a photo is refused with the reason.
    /// </summary>
    public bool AlignFirst { get; init; }

    /// <summary>
    /// Inpainting only: an explicit mask image of the face's size (white = fill). Null reads the mask the reference's
    /// way, from the input itself: the pixels that are pure white.
    /// </summary>
    public ReadOnlyMemory<byte>? Mask { get; init; }

    /// <summary>Output encoding; null keeps the input's format.</summary>
    public ImageFileFormat? OutputFormat { get; init; }

    public int JpegQuality { get; init; } = 95;

    /// <summary>Throws naming the first option that does not fit, before any work is done.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Task) || Task == FaceTask.Restore)
        {
            throw new ArgumentOutOfRangeException(nameof(Task), Task, "A face-task run is colorize or inpaint; restoration runs through RestorationEngine.");
        }
        if (Mask is not null && Task != FaceTask.Inpaint)
        {
            throw new ArgumentException("A mask is only meaningful for inpainting.", nameof(Mask));
        }
        if (AlignFirst && Task == FaceTask.Inpaint)
        {
            // Aligning moves the pixels: a mask painted on the photo would no longer say which face pixels to fill.
            throw new ArgumentException("Inpainting takes an aligned 512 × 512 face with its mask; aligning first would move the mask's pixels.", nameof(AlignFirst));
        }
        if (JpegQuality is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(JpegQuality), JpegQuality, "JPEG quality must be in 1–100.");
        }
    }
}
