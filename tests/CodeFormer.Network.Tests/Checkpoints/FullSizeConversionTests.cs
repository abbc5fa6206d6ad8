using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using Xunit.Abstractions;

namespace CodeFormer.Network.Tests.Checkpoints;

/// <summary>
/// The released model's size: a zip checkpoint with the official 515 keys (94,112,707 parameters,
/// about 376 MB) converted into an ONNX pair that ONNX Runtime accepts. Inference at 512 px is left to
/// the engine's tests; here the point is that the reader, validation and exporter cope with the real
/// scale (file sizes, 2 GB protobuf limit, memory) and produce the contract's inputs and outputs.
/// </summary>
[Collection(FullSizeModelCollection.Name)]
public sealed class FullSizeConversionTests(ITestOutputHelper output)
{
    [Fact]
    public void A_zip_checkpoint_with_the_official_515_keys_becomes_a_model_onnx_runtime_loads()
    {
        var architecture = CodeFormerArchitecture.Full;
        using var dir = new TemporaryDirectory();
        string checkpoint = dir.File("codeformer.pth");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), seed: 2026);
        Assert.Equal(515, weights.Count);
        TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet> { ["params_ema"] = weights });
        weights = null!; // Let the 376 MB go before the converter reads its own copy.
        output.WriteLine($"checkpoint written: {new FileInfo(checkpoint).Length:N0} bytes after {clock.Elapsed.TotalSeconds:F1} s");

        var result = CheckpointConverter.Convert(checkpoint, dir.File("codeformer.onnx"), architecture, fp16: false);
        output.WriteLine($"converted after {clock.Elapsed.TotalSeconds:F1} s (convert {result.Elapsed.TotalSeconds:F1} s): " +
            $"{result.OnnxBytes:N0} + {result.CodeOnlyOnnxBytes:N0} bytes");

        Assert.Equal(515, result.TensorCount);
        Assert.Equal(94_112_707, result.ParameterCount);
        // fp32 weights dominate both files; the w = 0 sibling lacks the fuse blocks' 10.66M parameters.
        Assert.InRange(result.OnnxBytes, 94_112_707L * 4, 94_112_707L * 4 + (16L << 20));
        Assert.True(result.CodeOnlyOnnxBytes < result.OnnxBytes - 10_000_000L * 4);

        using (var session = CheckpointConverterTests.Session(result.OnnxPath))
        {
            var input = session.InputMetadata[CodeFormerOnnxExporter.InputName];
            Assert.Equal(typeof(float), input.ElementType);
            Assert.Equal([3, 512, 512], input.Dimensions[1..]);
            Assert.Equal(typeof(double), session.InputMetadata[CodeFormerOnnxExporter.WeightInputName].ElementType);
            var modelOutput = session.OutputMetadata[CodeFormerOnnxExporter.OutputName];
            Assert.Equal(typeof(float), modelOutput.ElementType);
            Assert.Equal([3, 512, 512], modelOutput.Dimensions[1..]);
        }
        using (var codeOnly = CheckpointConverterTests.Session(result.CodeOnlyOnnxPath))
        {
            Assert.Equal([CodeFormerOnnxExporter.InputName], codeOnly.InputMetadata.Keys);
        }
        output.WriteLine($"both sessions created after {clock.Elapsed.TotalSeconds:F1} s");
    }
}
