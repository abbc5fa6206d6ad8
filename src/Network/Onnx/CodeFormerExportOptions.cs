namespace CodeFormer.Network.Onnx;

/// <summary>Element type of the weights and the arithmetic inside an exported graph (inputs and outputs stay float32).</summary>
public enum OnnxPrecision
{
    Float32,
    Float16,
}

/// <summary>What <see cref="CodeFormerOnnxExporter"/> emits.</summary>
public sealed record CodeFormerExportOptions
{
    /// <summary>
    /// True: the CFT fuse blocks are in the graph and a <c>weight</c> (w) input scales them.
    /// False: the w = 0 "code-only" graph — no fuse blocks, no fuse weights, no <c>weight</c> input
    /// (about 10.66M parameters smaller for the released model, doc A.6).
    /// </summary>
    public bool IncludeFuseBlocks { get; init; } = true;

    /// <summary>
    /// True (the official restoration and colorization scripts, <c>adain=True</c>): the looked-up codebook features take
    /// the per-channel mean and std of the encoder's <c>lq_feat</c>. False (the inpainting script, <c>adain=False</c>, and
    /// the forward's default): the codebook features go to the generator as they are (doc A.4, B.11).
    /// </summary>
    public bool AdaIn { get; init; } = true;

    /// <summary>Float16: half weights and half compute, with float32 input and output (Cast at the edges).</summary>
    public OnnxPrecision Precision { get; init; } = OnnxPrecision.Float32;

    /// <summary>
    /// Licence of the weights, written into the model's "license" metadata. Null means weights from the official
    /// checkpoint (S-Lab License 1.0, non-commercial: <see cref="CodeFormerModelMetadata.LicenseText"/>); models made
    /// from other weights (pseudo-random ones for tests, a user's own training) say so here instead.
    /// </summary>
    public string? WeightsLicense { get; init; }
}
