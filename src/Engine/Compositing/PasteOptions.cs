namespace CodeFormer.Engine.Compositing;

/// <summary>Paste-back settings shared by all faces of one image (reference B.7).</summary>
public sealed record PasteOptions
{
    /// <summary>Canvas scale relative to the (pre-processed) input image, the reference's integer upscale factor s.</summary>
    public int Upscale { get; init; } = 1;

    /// <summary>
    /// The restored faces were already upsampled to (FaceSize·s)² (reference --face_upsample): the inverse matrix
    /// is re-derived without the 0.5·s offset and the mask is built at that size.
    /// </summary>
    public bool FaceUpsampled { get; init; }

    /// <summary>Draw the reference's green face box (--draw_box).</summary>
    public bool DrawBox { get; init; }

    /// <summary>Side of the aligned face crop the matrices map to (512 in the reference).</summary>
    public int FaceSize { get; init; } = 512;
}
