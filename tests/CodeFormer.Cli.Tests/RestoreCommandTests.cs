using System.Text.Json;
using CodeFormer.Testing;

namespace CodeFormer.Cli.Tests;

/// <summary><c>codeformer restore</c> as a child process, on real photos with the real YuNet and a tiny random CodeFormer.</summary>
[Collection(CliCollection.Name)]
public sealed class RestoreCommandTests(CliFixture fixture)
{
    private const string YuNet = "models/face_detection_yunet_2023mar.onnx";
    private const string Astronaut = "images/astronaut.png";
    private const string HopperTiny = "images/hopper_128x128.png";
    private const string Solvay = "images/solvay_1927_1280x926.png";

    private static readonly string[] Stages = ["decode", "detect", "align", "restore", "background", "paste", "encode"];

    [AssetFact(YuNet, Astronaut, HopperTiny)]
    public void A_folder_with_a_corrupt_photo_restores_the_others_and_exits_1()
    {
        string input = fixture.NewFolder("photos");
        File.Copy(TestAssets.PathOf(Astronaut), Path.Combine(input, "astronaut.png"));
        File.Copy(TestAssets.PathOf(HopperTiny), Path.Combine(input, "hopper.png"));
        // The first 2000 bytes of a real JPEG: a valid header, then the data stops.
        File.WriteAllBytes(Path.Combine(input, "broken.jpg"), File.ReadAllBytes(TestAssets.PathOf("images/grace_hopper_517x606.jpg"))[..2000]);
        string output = fixture.NewFolder("results");

        var run = fixture.Run("restore", input, "--model", fixture.TinyModelPath, "--detector-model", TestAssets.PathOf(YuNet),
            "--offline", "-o", output);

        Assert.True(run.ExitCode == 1, run.ToString());
        foreach (var name in new[] { "astronaut", "hopper" })
        {
            Assert.True(File.Exists(Path.Combine(output, "final_results", name + ".png")), $"no final result for {name}\n{run}");
            Assert.True(File.Exists(Path.Combine(output, "restored_faces", name + "_00.png")), $"no restored face for {name}\n{run}");
            Assert.True(File.Exists(Path.Combine(output, "cropped_faces", name + "_00.png")), $"no cropped face for {name}\n{run}");
            Assert.True(File.Exists(Path.Combine(output, "cmp", name + ".png")), $"no comparison for {name}\n{run}");
            AssertReport(Path.Combine(output, "reports", name + ".json"), inputSide: name == "astronaut" ? 512 : 128);
        }
        Assert.Empty(Directory.GetFiles(output, "broken*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories));

        // The summary names the failed photo and the rule it broke, on one unwrapped line of stderr.
        var failure = Assert.Single(run.StdErr.Split('\n'), line => line.StartsWith("failed:", StringComparison.Ordinal));
        Assert.Contains(Path.Combine(input, "broken.jpg"), failure);
        Assert.Contains("Truncated", failure); // its own rule since the hostile-input work (it was NotDecodable)
        Assert.Contains("truncated", failure);
        Assert.Contains("2 restored, 1 failed", run.StdOut);
    }

    [AssetFact(YuNet, HopperTiny)]
    public void Markup_in_a_name_a_254_byte_name_and_a_symlink_to_dev_zero_neither_crash_nor_break_outputs()
    {
        string input = fixture.NewFolder("hostile-names");
        string markup = "[bold]unclosed [markup name.png";
        string longName = new string('a', 250) + ".png"; // 254 bytes: legal, but "_00.png.tmp" would pass 255
        File.Copy(TestAssets.PathOf(HopperTiny), Path.Combine(input, markup));
        File.Copy(TestAssets.PathOf(HopperTiny), Path.Combine(input, longName));
        File.CreateSymbolicLink(Path.Combine(input, "zero.jpg"), "/dev/zero");
        string output = fixture.NewFolder("hostile-results");

        var run = fixture.Run("restore", input, "--model", fixture.TinyModelPath, "--detector-model", TestAssets.PathOf(YuNet),
            "--offline", "-s", "1", "-o", output);

        Assert.True(run.ExitCode == 1, run.ToString()); // zero.jpg fails; no SIGABRT (134) from the progress display
        Assert.True(File.Exists(Path.Combine(output, "final_results", "[bold]unclosed [markup name.png")), run.ToString());
        var finals = Directory.GetFiles(Path.Combine(output, "final_results")).Select(Path.GetFileName).ToList();
        Assert.Equal(2, finals.Count);
        Assert.Contains(finals, f => f!.StartsWith(new string('a', 200), StringComparison.Ordinal) && f.Length <= 255 - 16);
        Assert.All(Directory.GetFiles(output, "*", SearchOption.AllDirectories), f => Assert.True(System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(f)) <= 255));
        var failure = Assert.Single(run.StdErr.Split('\n'), line => line.StartsWith("failed:", StringComparison.Ordinal));
        Assert.Contains("zero.jpg", failure);
        Assert.Contains("MaxBytes", failure);
    }

    private static void AssertReport(string path, int inputSide)
    {
        Assert.True(File.Exists(path), $"report {path} is missing");
        using var report = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = report.RootElement;
        Assert.Equal(inputSide, root.GetProperty("inputWidth").GetInt32());
        Assert.Equal(1024, root.GetProperty("outputWidth").GetInt32());
        var face = Assert.Single(root.GetProperty("faces").EnumerateArray());
        var box = face.GetProperty("box").EnumerateArray().Select(v => v.GetDouble()).ToList();
        Assert.Equal(4, box.Count);
        Assert.True(box[0] < box[2] && box[1] < box[3], $"box {string.Join(", ", box)}");
        Assert.All(box, v => Assert.InRange(v, -1, inputSide + 1));
        Assert.InRange(face.GetProperty("score").GetDouble(), 0.5, 1);
        var landmarks = face.GetProperty("landmarks").EnumerateArray().ToList();
        Assert.Equal(5, landmarks.Count);
        Assert.All(landmarks, p => Assert.Equal(2, p.GetArrayLength()));
        Assert.Equal(6, face.GetProperty("affine").GetArrayLength());
        Assert.Equal(["affine", "box", "index", "landmarks", "score"], face.EnumerateObject().Select(p => p.Name).Order());
        var timings = root.GetProperty("timingsMs");
        Assert.Equal(Stages.Order(), timings.EnumerateObject().Select(p => p.Name).Order());
        Assert.True(root.GetProperty("totalMs").GetDouble() > 0);
    }

    [AssetFact(YuNet, Astronaut, HopperTiny)]
    public void Photos_with_the_same_name_do_not_overwrite_each_other()
    {
        string first = fixture.NewFolder("first"), second = fixture.NewFolder("second");
        File.Copy(TestAssets.PathOf(Astronaut), Path.Combine(first, "face.png"));
        File.Copy(TestAssets.PathOf(HopperTiny), Path.Combine(second, "face.png"));
        string output = fixture.NewFolder("same-name-results");

        var run = fixture.Run("restore", first, second, "--model", fixture.TinyModelPath, "--detector-model", TestAssets.PathOf(YuNet),
            "--offline", "-s", "1", "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        var reports = Directory.GetFiles(Path.Combine(output, "reports")).Order().ToList();
        Assert.Equal(2, reports.Count);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "restored_faces")).Length);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "final_results")).Length);
        var inputs = reports.Select(r => JsonDocument.Parse(File.ReadAllBytes(r)).RootElement.GetProperty("input").GetString()!);
        Assert.Equal(new[] { Path.Combine(first, "face.png"), Path.Combine(second, "face.png") }.Order(StringComparer.Ordinal), inputs.Order(StringComparer.Ordinal));
    }

    [AssetFact(YuNet, Solvay)]
    public void Face_selection_and_format_flags_reach_the_engine_and_w_0_runs()
    {
        string output = fixture.NewFolder("flags");
        var run = fixture.Run("restore", TestAssets.PathOf(Solvay), "--model", fixture.TinyModelPath, "--detector-model", TestAssets.PathOf(YuNet),
            "--offline", "--max-faces", "3", "--draw-box", "--format", "webp", "-w", "0", "-s", "1", "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(File.Exists(Path.Combine(output, "final_results", "solvay_1927_1280x926.webp")), run.ToString());
        using var report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "reports", "solvay_1927_1280x926.json")));
        Assert.Equal(3, report.RootElement.GetProperty("faces").GetArrayLength());
        Assert.Equal(1280, report.RootElement.GetProperty("outputWidth").GetInt32());
        Assert.Equal(3, Directory.GetFiles(Path.Combine(output, "restored_faces")).Length);

        string centre = fixture.NewFolder("centre");
        var centreRun = fixture.Run("restore", TestAssets.PathOf(Solvay), "--model", fixture.TinyModelPath, "--detector-model", TestAssets.PathOf(YuNet),
            "--offline", "--only-center-face", "-s", "1", "-o", centre);

        Assert.True(centreRun.ExitCode == 0, centreRun.ToString());
        using var centreReport = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(centre, "reports", "solvay_1927_1280x926.json")));
        Assert.Equal(1, centreReport.RootElement.GetProperty("faces").GetArrayLength());
    }

    [AssetFact(Astronaut)]
    public void Aligned_crops_need_no_detector_and_come_back_at_the_model_face_size()
    {
        string input = fixture.NewFolder("aligned");
        File.Copy(TestAssets.PathOf(Astronaut), Path.Combine(input, "crop.png"));
        string output = fixture.NewFolder("aligned-results");
        string emptyCache = fixture.NewFolder("aligned-cache");

        var run = fixture.Run("restore", input, "--aligned", "--model", fixture.TinyModelPath, "--offline", "--models-dir", emptyCache, "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "reports", "crop.json")));
        Assert.Equal(64, report.RootElement.GetProperty("outputWidth").GetInt32());
        Assert.Equal(0, report.RootElement.GetProperty("faces").GetArrayLength());
        Assert.True(File.Exists(Path.Combine(output, "final_results", "crop.png")));
        Assert.Empty(Directory.GetFileSystemEntries(emptyCache));
    }

    [AssetFact(Astronaut)]
    public void Offline_without_a_model_says_which_file_to_fetch_from_where_and_where_to_put_it()
    {
        string emptyCache = fixture.NewFolder("empty-cache");
        string output = fixture.NewFolder("offline-results");

        var run = fixture.Run("restore", TestAssets.PathOf(Astronaut), "--offline", "--models-dir", emptyCache, "-o", output);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer.pth", run.StdErr);
        Assert.Contains(Path.Combine(emptyCache, "codeformer.pth"), run.StdErr);
        Assert.Empty(Directory.GetFileSystemEntries(emptyCache));
        Assert.Empty(Directory.GetFileSystemEntries(output));
        Assert.DoesNotContain("Unhandled exception", run.StdErr);
    }

    [AssetFact(YuNet, Astronaut)]
    public void Offline_background_upsampling_without_the_checkpoint_says_what_to_fetch_and_where()
    {
        string cache = fixture.NewFolder("bg-cache");
        var run = fixture.Run("restore", TestAssets.PathOf(Astronaut), "--bg-upsampler", "realesrgan", "--model", fixture.TinyModelPath,
            "--detector-model", TestAssets.PathOf(YuNet), "--offline", "--models-dir", cache, "-o", fixture.NewFolder("bg-results"));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.1/RealESRGAN_x2plus.pth", run.StdErr);
        Assert.Contains(Path.Combine(cache, "RealESRGAN_x2plus.pth"), run.StdErr);
        Assert.Empty(Directory.GetFileSystemEntries(cache));
    }

    [AssetFact(Astronaut)]
    public void A_fidelity_outside_0_1_is_refused_before_anything_runs()
    {
        var run = fixture.Run("restore", TestAssets.PathOf(Astronaut), "--fidelity", "2", "--offline", "--models-dir", fixture.NewFolder("unused"));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("[0, 1]", run.StdErr);
        Assert.DoesNotContain("execution provider", run.StdErr);
    }

    [Fact]
    public void Help_lists_the_options_of_the_issue()
    {
        var run = fixture.Run("restore", "--help");

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var option in new[]
        {
            "-w, --fidelity", "-s, --upscale", "--bg-upsampler", "--face-upsample", "--aligned", "--only-center-face", "--draw-box",
            "--detector", "yunet", "retinaface", "--device", "auto", "cpu", "cuda", "--model", "--detector-model", "-o, --output",
        })
        {
            Assert.Contains(option, run.StdOut);
        }
    }
}
