using System.Diagnostics;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Weights;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CodeFormer.Bench;

/// <summary>
/// <c>fuzz [--seed N] [--seconds S] [--target images|checkpoints|all] [--assets dir] [--out dir]</c>: mutates real files
/// (the photos in ../shared/assets/images, WebP and 16-bit PNG made from them, and a Tiny checkpoint in both torch
/// formats) and feeds each mutant to the parsers that face uploads: <see cref="ImageDecoder.Decode(byte[], ImageLimits?, CancellationToken)"/>,
/// <see cref="ImageDecoder.InspectAsync"/> and <see cref="CodeFormerCheckpoint.Load"/>. Every outcome must be success or
/// a refusal of the documented kind; anything else (an unhandled exception, a case slower than 10 s, an upload that
/// InspectAsync accepts but Decode refuses for a reason the container shows) is a finding, saved to --out.
/// Seeded and bounded in time, so a run can be repeated exactly.
/// </summary>
internal static class FuzzBenchmark
{
    private static readonly TimeSpan SlowCase = TimeSpan.FromSeconds(10);

    public static int Run(BenchArguments options)
    {
        var seed = options.Int("seed", 1);
        var seconds = options.Double("seconds", 60);
        var target = options.Text("target") ?? "all";
        var assets = options.Text("assets") ?? Path.Combine("..", "shared", "assets");
        var findingsDirectory = options.Text("out") ?? Path.Combine(Path.GetTempPath(), $"codeformer-fuzz-{seed}");
        var random = new Random(seed);
        var mutator = new FuzzMutator(random);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var findings = new List<string>();
        var slowest = TimeSpan.Zero;
        var cases = 0;

        var imageSeeds = target is "images" or "all" ? ImageSeeds(Path.Combine(assets, "images")) : [];
        var checkpointSeeds = target is "checkpoints" or "all" ? CheckpointSeeds() : [];
        var seeds = imageSeeds.Select(s => (s.Name, s.Bytes, Image: true)).Concat(checkpointSeeds.Select(s => (s.Name, s.Bytes, Image: false))).ToList();
        if (seeds.Count == 0)
        {
            throw new ArgumentException($"No seed files: target '{target}', assets '{assets}'.");
        }
        Console.WriteLine($"fuzz: seed {seed}, {seconds} s, {seeds.Count} seed files ({string.Join(", ", seeds.Select(s => s.Name))})");
        var scratch = Directory.CreateTempSubdirectory("codeformer-fuzz-").FullName;
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                var (name, bytes, isImage) = seeds[random.Next(seeds.Count)];
                var (kind, mutant) = mutator.Mutate(bytes);
                var caseClock = Stopwatch.StartNew();
                var outcome = isImage ? RunImage(mutant) : RunCheckpoint(mutant, scratch);
                if (kind == FuzzMutator.CutClose && outcome == "decoded")
                {
                    outcome = "FINDING a file cut short and closed again decoded as if whole";
                }
                caseClock.Stop();
                cases++;
                slowest = caseClock.Elapsed > slowest ? caseClock.Elapsed : slowest;
                var key = $"{(isImage ? "image" : "checkpoint")} · {outcome}";
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
                if (outcome.StartsWith("FINDING", StringComparison.Ordinal) || caseClock.Elapsed > SlowCase)
                {
                    Directory.CreateDirectory(findingsDirectory);
                    var file = Path.Combine(findingsDirectory, $"{cases:00000}-{name}-{kind}.bin");
                    File.WriteAllBytes(file, mutant);
                    findings.Add($"{file}: {outcome} ({caseClock.Elapsed.TotalMilliseconds:F0} ms)");
                }
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }

        Console.WriteLine();
        Console.WriteLine($"| outcome | cases |");
        Console.WriteLine($"|---|---:|");
        foreach (var (outcome, count) in outcomes)
        {
            Console.WriteLine($"| {outcome} | {count} |");
        }
        Console.WriteLine();
        Console.WriteLine($"{cases} cases in {clock.Elapsed.TotalSeconds:F0} s, slowest {slowest.TotalMilliseconds:F0} ms, " +
            $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB, findings: {findings.Count}");
        foreach (var finding in findings)
        {
            Console.WriteLine($"  {finding}");
        }
        return findings.Count == 0 ? 0 : 1;
    }

    private static string RunImage(byte[] mutant)
    {
        var decoder = new ImageDecoder();
        string inspected;
        try
        {
            using var stream = new MemoryStream(mutant, writable: false);
            decoder.InspectAsync(stream).GetAwaiter().GetResult();
            inspected = "accepted";
        }
        catch (ImageRejectedException e)
        {
            inspected = e.Rule.ToString();
        }
        catch (Exception e)
        {
            return $"FINDING InspectAsync threw {e.GetType().Name}: {e.Message}";
        }
        try
        {
            decoder.Decode(mutant);
            return inspected == "accepted" ? "decoded" : $"FINDING InspectAsync refused ({inspected}) what Decode decoded";
        }
        catch (ImageRejectedException e)
        {
            // Only what a full decode can show may pass the upload check and be refused later.
            if (inspected == "accepted" && e.Rule is not (ImageRejectionRule.Truncated or ImageRejectionRule.DamagedData or ImageRejectionRule.NotDecodable or ImageRejectionRule.MalformedHeader))
            {
                return $"FINDING InspectAsync accepted what Decode refused as {e.Rule}";
            }
            return $"refused {e.Rule}";
        }
        catch (Exception e)
        {
            return $"FINDING Decode threw {e.GetType().Name}: {e.Message}";
        }
    }

    private static string RunCheckpoint(byte[] mutant, string scratch)
    {
        var path = Path.Combine(scratch, "mutant.pth");
        File.WriteAllBytes(path, mutant);
        try
        {
            CodeFormerCheckpoint.Load(path, CodeFormerArchitecture.Tiny);
            return "loaded";
        }
        catch (CheckpointFormatException)
        {
            return "refused (format)";
        }
        catch (InvalidWeightsException)
        {
            return "refused (weights do not fit)";
        }
        catch (Exception e)
        {
            return $"FINDING {e.GetType().Name}: {e.Message}";
        }
    }

    private static List<(string Name, byte[] Bytes)> ImageSeeds(string folder)
    {
        var seeds = new List<(string, byte[])>();
        if (!Directory.Exists(folder))
        {
            return seeds;
        }
        // Small photos only: each case decodes the whole file, and more cases find more.
        foreach (var file in Directory.EnumerateFiles(folder).Where(f => new FileInfo(f).Length < 400_000).Order(StringComparer.Ordinal))
        {
            seeds.Add((Path.GetFileName(file), File.ReadAllBytes(file)));
        }
        if (seeds.FirstOrDefault(s => s.Item1.EndsWith(".png", StringComparison.Ordinal)) is { Item2: { } png })
        {
            using var image = Image.Load<Rgba32>(png);
            image.Mutate(x => x.Resize(Math.Min(image.Width, 96), 0));
            seeds.Add(("made-lossy.webp", Encode(image, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy })));
            seeds.Add(("made-lossless.webp", Encode(image, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless })));
            using var wide = image.CloneAs<Rgba64>();
            seeds.Add(("made-16bit.png", Encode(wide, new PngEncoder { BitDepth = PngBitDepth.Bit16 })));
            seeds.Add(("made-interlaced.png", Encode(image, new PngEncoder { InterlaceMethod = PngInterlaceMode.Adam7 })));
        }
        return seeds;
    }

    private static byte[] Encode(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    private static List<(string Name, byte[] Bytes)> CheckpointSeeds()
    {
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Tiny)), 11);
        var folder = Directory.CreateTempSubdirectory("codeformer-fuzz-seed-").FullName;
        try
        {
            var zip = Path.Combine(folder, "tiny-zip.pth");
            var legacy = Path.Combine(folder, "tiny-legacy.pth");
            TorchCheckpointWriter.WriteZip(zip, new Dictionary<string, WeightSet> { ["params_ema"] = weights });
            TorchCheckpointWriter.WriteLegacy(legacy, new Dictionary<string, WeightSet> { ["params_ema"] = weights });
            return [("tiny-zip.pth", File.ReadAllBytes(zip)), ("tiny-legacy.pth", File.ReadAllBytes(legacy))];
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
