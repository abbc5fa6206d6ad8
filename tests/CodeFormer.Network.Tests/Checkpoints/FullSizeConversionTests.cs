using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;
using Xunit.Abstractions;

namespace CodeFormer.Network.Tests.Checkpoints;

/// <summary>
/// The released model's size: a zip checkpoint with the official 515 keys (94,112,707 parameters,
/// about 376 MB) converted into an ONNX pair that ONNX Runtime loads and runs on one 512 px face: the reader,
/// validation and exporter cope with the real scale (file sizes, 2 GB protobuf limit, memory) and produce the
/// contract's inputs and outputs. One face costs about 2 s per graph on the CI machine.
/// </summary>
[Collection(FullSizeModelCollection.Name)]
public sealed class FullSizeConversionTests(ITestOutputHelper output)
{
    [Fact]
    public void A_zip_checkpoint_with_the_official_515_keys_becomes_a_model_onnx_runtime_runs()
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

        var face = new float[3 * 512 * 512];
        var random = new Random(5);
        for (int i = 0; i < face.Length; i++)
        {
            face[i] = (float)(random.NextDouble() * 2 - 1);
        }
        float[] atHalf, atZero, codeOnlyOutput;
        using (var session = CheckpointConverterTests.Session(result.OnnxPath))
        {
            atHalf = CheckpointConverterTests.Run(session, face, 0.5, 512);
            atZero = CheckpointConverterTests.Run(session, face, 0, 512);
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
            codeOnlyOutput = CheckpointConverterTests.Run(codeOnly, face, null, 512);
        }
        Assert.All(atHalf, v => Assert.True(float.IsFinite(v)));
        // w scales the fuse blocks: at 0.5 they change the face, at 0 the full graph is the code-only one.
        Assert.True(atHalf.Zip(atZero, (a, b) => Math.Abs(a - b)).Max() > 1e-2);
        double codeOnlyGap = atZero.Zip(codeOnlyOutput, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"full graph at w = 0 vs code-only graph: max |Δ| {codeOnlyGap:E2}");
        Assert.True(codeOnlyGap < 1e-3, $"max |Δ| {codeOnlyGap}");
        output.WriteLine($"both sessions created after {clock.Elapsed.TotalSeconds:F1} s");
    }
}
