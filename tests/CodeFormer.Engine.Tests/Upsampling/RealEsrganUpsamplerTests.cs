using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Upsampling;
using CodeFormer.Network.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Upsampling;

public sealed class RealEsrganUpsamplerTests : IDisposable
{
    private readonly SessionOptions _options = new();

    public void Dispose() => _options.Dispose();

    private static RgbImage RandomImage(int width, int height, int seed, bool alpha = false)
        => new(width, height, TestModels.RandomValues(width * height * 3, seed, 0f, 255f))
        {
            Alpha = alpha ? TestModels.RandomValues(width * height, seed + 1, 0f, 255f) : null,
        };

    private RealEsrganUpsampler Open(OnnxGraph graph, int tileSize, int tilePad)
        => RealEsrganUpsampler.FromBytes(TestModels.Bytes(graph), _options, tileSize, tilePad);

    [Fact]
    public void Nearest_model_through_tiles_gives_exact_nearest_upsampling_of_an_odd_sized_image()
    {
        using var upsampler = Open(FakeUpsamplers.NearestX2(), tileSize: 16, tilePad: 4);
        var image = RandomImage(37, 23, seed: 1);

        var result = upsampler.Upscale(image, 2);

        Assert.Equal(2, upsampler.Scale);
        Assert.Equal((74, 46), (result.Width, result.Height));
        for (int y = 0; y < result.Height; y++)
        {
            for (int x = 0; x < result.Width; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    float source = image.Pixels[((y / 2) * image.Width + x / 2) * 3 + c];
                    Assert.Equal(Math.Clamp(source / 255f, 0f, 1f) * 255f, result.Pixels[(y * result.Width + x) * 3 + c]);
                }
            }
        }
        Assert.Null(result.Alpha);
    }

    [Fact]
    public void Each_tile_runs_on_the_reference_window_and_keeps_only_its_core()
    {
        // A network that adds its input window's mean shows exactly which window produced each output pixel.
        // Expected windows transcribe RealESRGANer.tile_process (reference B.8) on the mod-2 reflect-padded 38×24 image:
        // tile t covers [t·tile, min((t+1)·tile, size)), run with [max(start − pad, 0), min(end + pad, size)).
        const int tile = 16, pad = 4, width = 37, height = 23, paddedW = 38, paddedH = 24;
        using var upsampler = Open(FakeUpsamplers.NearestX2(addWindowMean: true), tile, pad);
        var image = RandomImage(width, height, seed: 11);
        var planar = new float[3 * width * height];
        for (int i = 0; i < width * height; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                planar[c * width * height + i] = image.Pixels[i * 3 + c] / 255f;
            }
        }
        var padded = RealEsrganUpsampler.ReflectPad(planar, width, height, paddedW, paddedH);

        var result = upsampler.UpsamplePlanar(planar, width, height, CancellationToken.None);

        int outW = width * 2, outH = height * 2;
        for (int y = 0; y < outH; y++)
        {
            for (int x = 0; x < outW; x++)
            {
                int tx = x / 2 / tile, ty = y / 2 / tile;
                int x0 = Math.Max(tx * tile - pad, 0), x1 = Math.Min((tx + 1) * tile + pad, paddedW);
                int y0 = Math.Max(ty * tile - pad, 0), y1 = Math.Min((ty + 1) * tile + pad, paddedH);
                double sum = 0;
                for (int c = 0; c < 3; c++)
                {
                    for (int wy = y0; wy < y1; wy++)
                    {
                        for (int wx = x0; wx < x1; wx++)
                        {
                            sum += padded[(c * paddedH + wy) * paddedW + wx];
                        }
                    }
                }
                float mean = (float)(sum / (3 * (x1 - x0) * (y1 - y0)));
                for (int c = 0; c < 3; c++)
                {
                    float nearest = planar[(c * height + y / 2) * width + x / 2];
                    Assert.Equal(nearest + mean, result[(c * outH + y) * outW + x], 1e-5f);
                }
            }
        }
    }

    [Theory]
    [InlineData(2, 37, 23)] // not multiples of the tile, odd sizes (mod padding)
    [InlineData(2, 10, 7)] // smaller than one tile
    [InlineData(2, 32, 16)] // exact multiples of the tile
    [InlineData(4, 19, 13)] // x4: no mod padding
    [InlineData(1, 21, 18)] // x1: mod 4 padding
    public void Tiled_result_equals_the_untiled_result_for_a_local_network(int scale, int width, int height)
    {
        var graph = FakeUpsamplers.ConvolutionUpsampler(scale);
        using var tiled = Open(graph, tileSize: 16, tilePad: 4);
        using var whole = Open(graph, tileSize: 0, tilePad: 0);
        var image = RandomImage(width, height, seed: scale * 100 + width);

        var tiledResult = tiled.Upscale(image, scale);
        var wholeResult = whole.Upscale(image, scale);

        Assert.Equal(scale, tiled.Scale);
        Assert.Equal((width * scale, height * scale), (tiledResult.Width, tiledResult.Height));
        Assert.Equal(wholeResult.Pixels, tiledResult.Pixels);
        Assert.Contains(tiledResult.Pixels, v => v > 0f && v < 255f);
    }

    [Theory]
    [InlineData(61, 45)] // several fixed windows per axis, the last ones slid back inside the image
    [InlineData(24, 30)] // exactly one window wide
    public void Fixed_size_model_gives_the_untiled_result_of_the_free_size_model(int width, int height)
    {
        // Real-ESRGAN's own export script fixes the input at 64×64; here a 24×24 export of the same convolution.
        using var fixedSize = Open(FakeUpsamplers.ConvolutionUpsampler(2, fixedSize: 24), 400, 40);
        using var whole = Open(FakeUpsamplers.ConvolutionUpsampler(2), 0, 0);
        var image = RandomImage(width, height, seed: width + height);

        var result = fixedSize.Upscale(image, 2);

        Assert.Equal((24, 24), fixedSize.FixedInputSize);
        Assert.Equal(2, fixedSize.Scale);
        Assert.Equal(whole.Upscale(image, 2).Pixels, result.Pixels);
    }

    [Fact]
    public void Fixed_size_model_handles_images_smaller_than_its_window()
    {
        using var upsampler = Open(FakeUpsamplers.NearestX2(fixedSize: 24), 400, 40);
        var image = RandomImage(10, 7, seed: 13, alpha: true);

        var result = upsampler.Upscale(image, 2);

        Assert.Equal((20, 14), (result.Width, result.Height));
        for (int y = 0; y < 14; y++)
        {
            for (int x = 0; x < 20; x++)
            {
                float source = image.Pixels[((y / 2) * 10 + x / 2) * 3];
                Assert.Equal(Math.Clamp(source / 255f, 0f, 1f) * 255f, result.Pixels[(y * 20 + x) * 3]);
                Assert.Equal(image.Alpha![(y / 2) * 10 + x / 2], result.Alpha![y * 20 + x], 0.001f);
            }
        }
    }

    [Theory]
    [InlineData(61, 24, 40)]
    [InlineData(64, 64, 16)]
    [InlineData(200, 64, 16)]
    [InlineData(24, 24, 40)]
    public void Fixed_windows_cover_the_axis_with_context_around_every_core(int size, int window, int tilePad)
    {
        var spans = TilePlan.Fixed(size, window, tilePad);
        int pad = Math.Min(tilePad, window / 4);

        Assert.Equal(0, spans[0].Core0);
        Assert.Equal(size, spans[^1].Core1);
        for (int i = 0; i < spans.Length; i++)
        {
            var span = spans[i];
            Assert.Equal(window, span.Window1 - span.Window0);
            Assert.InRange(span.Window0, 0, size - window);
            Assert.True(span.Core0 - span.Window0 >= pad || span.Window0 == 0, $"tile {i}: {span}");
            Assert.True(span.Window1 - span.Core1 >= pad || span.Window1 == size, $"tile {i}: {span}");
            if (i > 0)
            {
                Assert.Equal(spans[i - 1].Core1, span.Core0);
            }
        }
    }

    [Fact]
    public void Tiles_without_enough_context_differ_which_is_why_the_pad_exists()
    {
        // Guards the test above: with no tile pad the 3×3 convolution sees tile edges, so equality there is not vacuous.
        var graph = FakeUpsamplers.ConvolutionUpsampler(2);
        using var unpadded = Open(graph, tileSize: 16, tilePad: 0);
        using var whole = Open(graph, tileSize: 0, tilePad: 0);
        var image = RandomImage(37, 23, seed: 7);

        Assert.NotEqual(whole.Upscale(image, 2).Pixels, unpadded.Upscale(image, 2).Pixels);
    }

    [Fact]
    public void Alpha_is_upsampled_by_the_network_too()
    {
        using var upsampler = Open(FakeUpsamplers.NearestX2(), tileSize: 16, tilePad: 4);
        var image = RandomImage(21, 17, seed: 3, alpha: true);

        var result = upsampler.Upscale(image, 2);

        Assert.NotNull(result.Alpha);
        Assert.Equal(result.Width * result.Height, result.Alpha!.Length);
        for (int y = 0; y < result.Height; y++)
        {
            for (int x = 0; x < result.Width; x++)
            {
                float source = image.Alpha![(y / 2) * image.Width + x / 2];
                // Grey conversion weights 0.299 + 0.587 + 0.114 sum to 1 up to float rounding.
                Assert.Equal(source, result.Alpha[y * result.Width + x], 0.001f);
            }
        }
    }

    [Fact]
    public void Other_outscale_resizes_the_network_result_with_lanczos()
    {
        using var upsampler = Open(FakeUpsamplers.ConvolutionUpsampler(2), tileSize: 16, tilePad: 4);
        var image = RandomImage(37, 23, seed: 4, alpha: true);

        var native = upsampler.Upscale(image, 2);
        var resized = upsampler.Upscale(image, 1.5);

        Assert.Equal((55, 34), (resized.Width, resized.Height)); // int(37·1.5), int(23·1.5)
        var expected = LanczosResizer.Resize(native, 55, 34);
        Assert.Equal(expected.Pixels, resized.Pixels);
        Assert.Equal(expected.Alpha, resized.Alpha);
    }

    [Fact]
    public void Scale_metadata_is_used_and_must_be_a_positive_integer()
    {
        var graph = FakeUpsamplers.ConvolutionUpsampler(2);
        graph.Metadata["scale"] = "2";
        using (var declared = Open(graph, 400, 40))
        {
            Assert.Equal(2, declared.Scale);
        }
        graph.Metadata["scale"] = "two";

        var error = Assert.Throws<ModelContractException>(() => Open(graph, 400, 40));

        Assert.Contains("'two'", error.Message);
    }

    [Fact]
    public void Models_outside_the_contract_are_refused_with_the_reason()
    {
        var twoInputs = FakeUpsamplers.NearestX2();
        twoInputs.AddInput("extra", OnnxElementType.Float, 1);
        var halfFixed = new OnnxGraph("half_fixed");
        halfFixed.Alias(halfFixed.AddInput("input", OnnxElementType.Float, 1, 3, 64, "W"), "output");
        halfFixed.AddOutput("output", OnnxElementType.Float, 1, 3, 64, "W");
        var grey = new OnnxGraph("grey");
        grey.Alias(grey.AddInput("input", OnnxElementType.Float, 1, 1, "H", "W"), "output");
        grey.AddOutput("output", OnnxElementType.Float, 1, 1, "H", "W");

        Assert.Contains("2 inputs ('input', 'extra')", Assert.Throws<ModelContractException>(() => Open(twoInputs, 400, 40)).Message);
        Assert.Contains("[1,3,64,W] fixes only one of height and width", Assert.Throws<ModelContractException>(() => Open(halfFixed, 400, 40)).Message);
        Assert.Contains("input 'input' is float [1,1,H,W], expected float [1,3,H,W]", Assert.Throws<ModelContractException>(() => Open(grey, 400, 40)).Message);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        using var upsampler = Open(FakeUpsamplers.NearestX2(), 400, 40);
        var image = RandomImage(4, 4, seed: 5);

        Assert.Throws<ArgumentOutOfRangeException>(() => upsampler.Upscale(image, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => upsampler.Upscale(image, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => upsampler.Upscale(image, 0.1)); // int(4·0.1) = 0 pixels
        Assert.Throws<ArgumentOutOfRangeException>(() => Open(FakeUpsamplers.NearestX2(), -1, 40));
        Assert.Throws<OperationCanceledException>(() => upsampler.Upscale(image, 2, new CancellationToken(true)));
        Assert.Throws<FileNotFoundException>(() => RealEsrganUpsampler.Open("/nonexistent/realesrgan.onnx", _options));
    }

    [Fact]
    public void Reflect_padding_mirrors_without_repeating_the_edge_like_torch()
    {
        // One channel row [1 2 3] (three channels of it), padded to width 4 and height 2.
        float[] planar = [1, 2, 3, 1, 2, 3, 1, 2, 3];

        var padded = RealEsrganUpsampler.ReflectPad(planar, 3, 1, 4, 2);

        // Width: reflect gives [1 2 3 2]; height 1 cannot be reflected (torch raises), so the row is replicated.
        Assert.Equal<float>([1, 2, 3, 2, 1, 2, 3, 2], padded.AsSpan(0, 8).ToArray());
    }
}
