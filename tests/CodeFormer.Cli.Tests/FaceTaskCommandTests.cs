using CodeFormer.Testing;

namespace CodeFormer.Cli.Tests;

/// <summary><c>codeformer colorize</c> and <c>inpaint</c> as child processes, with tiny random models of the task layouts.</summary>
[Collection(CliCollection.Name)]
public sealed class FaceTaskCommandTests(CliFixture fixture)
{
    private const string YuNet = "models/face_detection_yunet_2023mar.onnx";
    private const string Hopper = "images/grace_hopper_517x606.jpg";

    [Fact]
    public void Inpaint_fills_the_white_hole_and_keeps_every_other_pixel()
    {
        string model = BuildModel("tiny-inpainting");
        string input = fixture.NewFolder("inpaint-in");
        var face = Pattern(512);
        for (int y = 100; y < 180; y++)
        {
            for (int x = 200; x < 320; x++)
            {
                int i = (y * 512 + x) * 3;
                face.Pixels[i] = face.Pixels[i + 1] = face.Pixels[i + 2] = 255;
            }
        }
        File.WriteAllBytes(Path.Combine(input, "face.png"), new ImageEncoder().Encode(face, ImageFileFormat.Png));
        string output = fixture.NewFolder("inpaint-out");

        var run = fixture.Run("inpaint", Path.Combine(input, "face.png"), "--model", model, "--offline", "--device", "cpu", "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("9600 pixels filled", run.StdOut);
        var result = new ImageDecoder().Decode(File.ReadAllBytes(Path.Combine(output, "face.png"))).Image;
        int filled = 0;
        for (int p = 0; p < 512 * 512; p++)
        {
            int x = p % 512, y = p / 512;
            bool hole = y is >= 100 and < 180 && x is >= 200 and < 320;
            for (int c = 0; c < 3; c++)
            {
                if (!hole)
                {
                    Assert.Equal(face.Pixels[3 * p + c], result.Pixels[3 * p + c]);
                }
                else if (result.Pixels[3 * p + c] != 255)
                {
                    filled++;
                }
            }
        }
        Assert.True(filled > 9_600, $"only {filled} channel values of the hole were filled");
    }

    [Fact]
    public void Colorize_refuses_a_photo_that_is_not_an_aligned_face_and_writes_nothing()
    {
        string model = BuildModel("tiny-colorization");
        string input = fixture.NewFolder("colorize-in");
        File.WriteAllBytes(Path.Combine(input, "wide.png"), new ImageEncoder().Encode(Pattern(300), ImageFileFormat.Png));
        string output = fixture.NewFolder("colorize-out");

        var run = fixture.Run("colorize", input, "--model", model, "--offline", "--device", "cpu", "-o", output);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("300 × 300", run.StdErr);
        Assert.Contains("--align", run.StdErr);
        Assert.Empty(Directory.GetFiles(output));
    }

    [AssetFact(YuNet, Hopper)]
    public void Colorize_with_align_writes_the_aligned_face_in_colour()
    {
        string model = BuildModel("tiny-colorization");
        string output = fixture.NewFolder("colorize-align");

        var run = fixture.Run("colorize", TestAssets.PathOf(Hopper), "--align", "--model", model, "--detector-model", TestAssets.PathOf(YuNet),
            "--offline", "--device", "cpu", "--format", "png", "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        var decoded = new ImageDecoder().Decode(File.ReadAllBytes(Path.Combine(output, "grace_hopper_517x606.png")));
        Assert.Equal((512, 512), (decoded.Image.Width, decoded.Image.Height));
        Assert.False(decoded.IsGreyscale);
    }

    private string BuildModel(string config)
    {
        string path = Path.Combine(fixture.Root, "models", config + ".onnx");
        lock (fixture)
        {
            if (!File.Exists(path))
            {
                var run = fixture.Run("models", "build", "--random", "--config", config, "--seed", "5", "-o", path);
                Assert.True(run.ExitCode == 0, run.ToString());
            }
        }
        return path;
    }

    private static RgbImage Pattern(int size)
    {
        var image = new RgbImage(size, size);
        for (int i = 0; i < size * size; i++)
        {
            int x = i % size, y = i / size;
            image.Pixels[3 * i] = (float)Math.Round(120 + 100 * Math.Sin(x * 0.03));
            image.Pixels[3 * i + 1] = (float)Math.Round(120 + 100 * Math.Cos(y * 0.02));
            image.Pixels[3 * i + 2] = (float)Math.Round(120 + 80 * Math.Sin((x + y) * 0.01));
        }
        return image;
    }
}
