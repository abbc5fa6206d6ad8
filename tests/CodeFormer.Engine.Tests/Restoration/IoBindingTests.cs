using CodeFormer.Engine.Restoration;
using CodeFormer.Network.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Restoration;

/// <summary>
/// Face batches through ONNX Runtime IO binding (the path CUDA hosts use) give exactly what plain Run gives, for
/// dynamic-batch models split into chunks and for fixed-batch models with a padded last chunk.
/// </summary>
public sealed class IoBindingTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SessionOptions _options = new();

    public void Dispose()
    {
        _options.Dispose();
        _folder.Dispose();
    }

    [Theory]
    [InlineData(null, 2)]
    [InlineData(4, 4)]
    public void Io_binding_gives_the_same_faces_as_plain_run(int? fixedBatch, int maxBatch)
    {
        string path = _folder.Write($"scaling-{fixedBatch}.onnx", fixedBatch is { } b ? FakeCodeFormer.Scaling(batch: b) : FakeCodeFormer.Scaling());
        const int count = 3;
        var input = TestModels.RandomValues(count * FakeCodeFormer.FaceLength, seed: 11);
        var plain = new float[input.Length];
        var bound = new float[input.Length];

        using (var session = CodeFormerSession.Open(path, _options, maxBatch: maxBatch))
        {
            session.Restore(input, count, 0.7, plain);
        }
        using (var session = CodeFormerSession.Open(path, _options, maxBatch: maxBatch, ioBinding: true))
        {
            session.Restore(input, count, 0.7, bound);
        }

        // Same graph, same inputs; ONNX Runtime's CPU kernels may still split a padded batch differently between the two
        // runs (seen once in CI: a difference in the 8th significant digit), so the two agree to float precision, not bits.
        for (int i = 0; i < input.Length; i++)
        {
            Assert.Equal(plain[i], bound[i], 6);
        }
        var expected = FakeCodeFormer.Expected(input, count, 1.7f);
        for (int i = 0; i < input.Length; i++)
        {
            Assert.Equal(expected[i], bound[i], 5);
        }
    }
}
