using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Tasks;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace CodeFormer.Engine.Tests.Tasks;

/// <summary>
/// Colorization and inpainting end to end on tiny random-weight networks of the task layouts (fuse at the lower
/// resolutions; inpainting with half the codebook and AdaIN off), 64² faces resized to and from the 512² input.
/// </summary>
public sealed class FaceTaskEngineTests(ITestOutputHelper output) : IDisposable
{
    private readonly TemporaryDirectory _folder = new();
    private readonly SessionOptions _sessionOptions = new() { IntraOpNumThreads = 2 };
    private readonly ImageEncoder _encoder = new();
    private readonly ImageDecoder _decoder = new();

    private static CodeFormerArchitecture TinyColorization => CodeFormerArchitecture.Tiny with { FuseResolutions = [16, 32] };
    private static CodeFormerArchitecture TinyInpainting => TinyColorization with { CodebookSize = 32 };

    [Fact]
    public void Inpainting_leaves_unmasked_pixels_untouched_and_fills_the_white_ones()
    {
        using var engine = Engine(FaceTask.Inpaint);
        var face = RgbImages.Smooth(512, 512);
        Quantise(face);
        for (int y = 200; y < 300; y++)
        {
            for (int x = 150; x < 350; x++)
            {
                RgbImages.Set(face, x, y, 255, 255, 255);
            }
        }

        var result = engine.Run(_encoder.Encode(face, ImageFileFormat.Png), new FaceTaskOptions { Task = FaceTask.Inpaint });
        var restored = _decoder.Decode(result.Image).Image;

        Assert.Equal(100 * 200, result.MaskedPixels);
        Assert.Equal((512, 512), (restored.Width, restored.Height));
        int changed = 0;
        for (int y = 0; y < 512; y++)
        {
            for (int x = 0; x < 512; x++)
            {
                bool hole = y is >= 200 and < 300 && x is >= 150 and < 350;
                for (int c = 0; c < 3; c++)
                {
                    float before = RgbImages.At(face, x, y, c), after = RgbImages.At(restored, x, y, c);
                    if (!hole)
                    {
                        Assert.True(before == after, $"Unmasked pixel ({x}, {y}) channel {c} changed from {before} to {after}.");
                    }
                    else if (after != 255f)
                    {
                        changed++;
                    }
                }
            }
        }
        output.WriteLine($"{changed} of {3 * 100 * 200} masked channel values filled with something other than white");
        Assert.True(changed > 3 * 100 * 200 / 2, $"Only {changed} masked values were filled.");
    }

    [Fact]
    public void An_explicit_mask_fills_its_white_area_and_keeps_the_rest()
    {
        using var engine = Engine(FaceTask.Inpaint);
        var face = RgbImages.Smooth(512, 512);
        Quantise(face);
        var mask = RgbImages.Uniform(512, 512, 0);
        for (int y = 0; y < 64; y++)
        {
            for (int x = 0; x < 512; x++)
            {
                RgbImages.Set(mask, x, y, 255, 255, 255);
            }
        }

        var result = engine.Run(_encoder.Encode(face, ImageFileFormat.Png),
            new FaceTaskOptions { Task = FaceTask.Inpaint, Mask = _encoder.Encode(mask, ImageFileFormat.Png) });
        var restored = _decoder.Decode(result.Image).Image;

        Assert.Equal(64 * 512, result.MaskedPixels);
        Assert.Equal(face.Pixels.AsSpan(3 * 512 * 64).ToArray(), restored.Pixels.AsSpan(3 * 512 * 64).ToArray());
        float largestChange = 0;
        for (int i = 0; i < 3 * 512 * 64; i++)
        {
            largestChange = Math.Max(largestChange, Math.Abs(face.Pixels[i] - restored.Pixels[i]));
        }
        Assert.True(largestChange > 20, $"The masked band changed by at most {largestChange} levels.");
    }

    [Fact]
    public void A_grey_face_comes_back_in_colour()
    {
        using var engine = Engine(FaceTask.Colorize);
        var grey = RgbImages.Smooth(512, 512);
        for (int i = 0; i < grey.Pixels.Length; i += 3)
        {
            float luma = MathF.Round(0.299f * grey.Pixels[i] + 0.587f * grey.Pixels[i + 1] + 0.114f * grey.Pixels[i + 2]);
            grey.Pixels[i] = grey.Pixels[i + 1] = grey.Pixels[i + 2] = luma;
        }
        byte[] greyPng = _encoder.Encode(grey, ImageFileFormat.Png, greyscale: true);
        Assert.True(_decoder.Decode(greyPng).SourceIsGreyscaleFormat);

        var result = engine.Run(greyPng, new FaceTaskOptions { Task = FaceTask.Colorize });
        var decoded = _decoder.Decode(result.Image);

        Assert.False(decoded.SourceIsGreyscaleFormat, "The colorized face was written as a greyscale PNG.");
        double channelGap = 0;
        var pixels = decoded.Image.Pixels;
        for (int i = 0; i < pixels.Length; i += 3)
        {
            channelGap += Math.Abs(pixels[i] - pixels[i + 1]) + Math.Abs(pixels[i + 1] - pixels[i + 2]);
        }
        channelGap /= pixels.Length / 3;
        output.WriteLine($"mean |R − G| + |G − B| of the colorized face: {channelGap:F2} levels");
        Assert.True(channelGap > 5, $"The colorized face is still grey (mean channel gap {channelGap:F2}).");
        Assert.False(decoded.LooksGreyscale);
    }

    [Fact]
    public void A_photo_that_is_not_an_aligned_512_face_is_refused_with_the_way_out()
    {
        using var engine = Engine(FaceTask.Colorize);

        var error = Assert.Throws<FaceTaskInputException>(() => engine.Run(_encoder.Encode(RgbImages.Smooth(600, 403), ImageFileFormat.Png), new FaceTaskOptions()));

        Assert.Contains("600 × 403", error.Message);
        Assert.Contains("512 × 512", error.Message);
        Assert.Contains("--align", error.Message);
    }

    [AssetFact(Pipeline.PipelineFixture.YuNet, Pipeline.PipelineFixture.HopperJpeg)]
    public void With_align_first_the_largest_face_is_detected_and_aligned()
    {
        using var engine = Engine(FaceTask.Colorize, withDetector: true);

        var result = engine.Run(File.ReadAllBytes(TestAssets.PathOf(Pipeline.PipelineFixture.HopperJpeg)),
            new FaceTaskOptions { AlignFirst = true, OutputFormat = ImageFileFormat.Png });

        Assert.Equal((512, 512), (result.Width, result.Height));
        Assert.NotNull(result.AlignedFrom);
        output.WriteLine($"aligned from the face at ({result.AlignedFrom!.X1:F0}, {result.AlignedFrom.Y1:F0})–({result.AlignedFrom.X2:F0}, {result.AlignedFrom.Y2:F0})");
        Assert.True(result.AlignedFrom.Width > 100);
    }

    [Fact]
    public void Options_that_do_not_fit_the_task_are_refused()
    {
        using var engine = Engine(FaceTask.Colorize);
        byte[] png = _encoder.Encode(RgbImages.Smooth(512, 512), ImageFileFormat.Png);

        Assert.Throws<ArgumentException>(() => engine.Run(png, new FaceTaskOptions { Task = FaceTask.Inpaint }));
        Assert.Throws<ArgumentException>(() => engine.Run(png, new FaceTaskOptions { Task = FaceTask.Colorize, Mask = png }));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.Run(png, new FaceTaskOptions { Task = FaceTask.Restore }));
        Assert.Throws<InvalidOperationException>(() => engine.Run(png, new FaceTaskOptions { AlignFirst = true }));
    }

    [Fact]
    public void The_restoration_engine_refuses_other_tasks_and_names_the_engine_that_runs_them()
    {
        var restorer = CodeFormerSession.Open(Model(TinyColorization, adaIn: true, "restore.onnx"), _sessionOptions, maxBatch: 1);
        using var engine = new RestorationEngine(restorer, detector: null, upsampler: null, new EngineSettings { BatchSize = 1 });

        var error = Assert.Throws<PhotoRefusedException>(() => engine.Restore(_encoder.Encode(RgbImages.Smooth(64, 64), ImageFileFormat.Png),
            new RestorationOptions { Task = FaceTask.Colorize, InputIsAligned = true }));
        Assert.Contains("FaceTaskEngine", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RestorationOptions { Task = (FaceTask)7 }.Validate());
    }

    [Fact]
    public void Task_profiles_follow_the_reference_scripts()
    {
        Assert.Equal((0.0, true, 1024), (FaceTaskProfile.Colorize.Fidelity, FaceTaskProfile.Colorize.AdaIn, FaceTaskProfile.Colorize.Architecture.CodebookSize));
        Assert.Equal((1.0, false, 512), (FaceTaskProfile.Inpaint.Fidelity, FaceTaskProfile.Inpaint.AdaIn, FaceTaskProfile.Inpaint.Architecture.CodebookSize));
        Assert.Equal([32, 64, 128], FaceTaskProfile.Inpaint.Architecture.FuseResolutions);
        Assert.Equal("codeformer_colorization.pth", FaceTaskProfile.Colorize.Model.FileName);
        Assert.Equal("codeformer_inpainting.pth", FaceTaskProfile.Inpaint.Model.FileName);
        Assert.Contains("non-commercial", FaceTaskProfile.Inpaint.Model.LicenceNotice, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("codeformer_inpainting.pth", FaceTaskProfile.Inpaint.Model.LicenceNotice);
    }

    private FaceTaskEngine Engine(FaceTask task, bool withDetector = false)
    {
        var profile = FaceTaskProfile.For(task);
        string path = task == FaceTask.Inpaint
            ? Model(TinyInpainting, profile.AdaIn, "inpaint.onnx")
            : Model(TinyColorization, profile.AdaIn, "colorize.onnx");
        var restorer = CodeFormerSession.Open(path, _sessionOptions, maxBatch: 1);
        IFaceDetector? detector = withDetector ? new YuNetDetector(TestAssets.PathOf(Pipeline.PipelineFixture.YuNet), _sessionOptions) : null;
        return new FaceTaskEngine(task, restorer, detector, new EngineSettings { BatchSize = 1 });
    }

    private string Model(CodeFormerArchitecture architecture, bool adaIn, string name)
    {
        string path = _folder.File(name);
        if (!File.Exists(path))
        {
            var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), seed: 11);
            CodeFormerOnnxExporter.WriteFile(architecture, weights, path, new CodeFormerExportOptions { AdaIn = adaIn, WeightsLicense = "random test weights" });
        }
        return path;
    }

    /// <summary>8-bit levels, so a PNG round trip is exact and "untouched" can be checked with ==.</summary>
    private static void Quantise(RgbImage image)
    {
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = MathF.Round(Math.Clamp(image.Pixels[i], 0, 254));
        }
    }

    public void Dispose()
    {
        _sessionOptions.Dispose();
        _folder.Dispose();
    }
}
