namespace CodeFormer.Engine.Restoration;

/// <summary>A face-restoration network over aligned square crops (CodeFormer or another pluggable model).</summary>
public interface IFaceRestorer : IDisposable
{
    /// <summary>Side of the aligned crop the model takes and returns (512 for CodeFormer).</summary>
    int FaceSize { get; }

    /// <summary>
    /// Restores <paramref name="count"/> faces. Input and output are NCHW float32 RGB in [-1, 1]
    /// (output unclamped, as the network produces it); both spans hold count × 3 × FaceSize² values.
    /// </summary>
    void Restore(ReadOnlySpan<float> input, int count, double fidelity, Span<float> output, CancellationToken cancellationToken = default);
}
