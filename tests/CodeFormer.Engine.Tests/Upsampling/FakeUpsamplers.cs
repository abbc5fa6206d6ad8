using CodeFormer.Network.Onnx;

namespace CodeFormer.Engine.Tests.Upsampling;

/// <summary>Tiny stand-ins for Real-ESRGAN with the same contract ([1,3,H,W] → [1,3,H·s,W·s]) and a 3×3 receptive field at most.</summary>
internal static class FakeUpsamplers
{
    /// <summary>Nearest-neighbour x2: output (x, y) = input (⌊x/2⌋, ⌊y/2⌋), a known answer; optionally plus the input window's mean.</summary>
    public static OnnxGraph NearestX2(bool addWindowMean = false, int? fixedSize = null)
    {
        var graph = new OnnxGraph("nearest_x2");
        string x = graph.AddInput("input", OnnxElementType.Float, 1, 3, Dim(fixedSize, "H"), Dim(fixedSize, "W"));
        string scales = graph.AddConstant("scales", OnnxElementType.Float, [4], System.Runtime.InteropServices.MemoryMarshal.AsBytes<float>([1f, 1f, 2f, 2f]).ToArray());
        string y = graph.Op("Resize", "resized", [x, "", scales],
            OnnxAttribute.Of("mode", "nearest"), OnnxAttribute.Of("coordinate_transformation_mode", "asymmetric"), OnnxAttribute.Of("nearest_mode", "floor"));
        if (addWindowMean)
        {
            // Adds the mean of the whole input window: a global operator that reveals which window each tile ran on.
            string mean = graph.Op("ReduceMean", "window_mean", [x], OnnxAttribute.Of("axes", 1L, 2L, 3L), OnnxAttribute.Of("keepdims", 1L));
            y = graph.Op("Add", "with_mean", [y, mean]);
        }
        graph.Alias(y, "output");
        graph.AddOutput("output", OnnxElementType.Float, 1, 3, Dim(fixedSize * 2, "H2"), Dim(fixedSize * 2, "W2"));
        return graph;
    }

    /// <summary>A fixed random 3×3 convolution to 3·s² channels followed by DepthToSpace(s): local, position-dependent, any scale.</summary>
    public static OnnxGraph ConvolutionUpsampler(int scale, int seed = 42, int? fixedSize = null)
    {
        var graph = new OnnxGraph($"conv_x{scale}");
        string x = graph.AddInput("lr", OnnxElementType.Float, fixedSize is null ? "B" : 1, 3, Dim(fixedSize, "H"), Dim(fixedSize, "W"));
        int channels = 3 * scale * scale;
        string weights = graph.AddInitializer(OnnxTensor.FromFloats("conv_w", [channels, 3, 3, 3], TestModels.RandomValues(channels * 27, seed, -0.3f, 0.3f)));
        string bias = graph.AddInitializer(OnnxTensor.FromFloats("conv_b", [channels], TestModels.RandomValues(channels, seed + 1, 0f, 0.2f)));
        string y = graph.Op("Conv", "features", [x, weights, bias], OnnxAttribute.Of("kernel_shape", 3L, 3L), OnnxAttribute.Of("pads", 1L, 1L, 1L, 1L));
        if (scale > 1)
        {
            y = graph.Op("DepthToSpace", "shuffled", [y], OnnxAttribute.Of("blocksize", (long)scale), OnnxAttribute.Of("mode", "CRD"));
        }
        graph.Alias(y, "hr");
        graph.AddOutput("hr", OnnxElementType.Float, fixedSize is null ? "B" : 1, 3, Dim(fixedSize * scale, "H2"), Dim(fixedSize * scale, "W2"));
        return graph;
    }

    private static OnnxDim Dim(int? size, string symbol) => size is { } value ? value : symbol;
}
