using System.Globalization;
using System.Text.Json;
using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;

namespace CodeFormer.MemoryProbe;

/// <summary>
/// Restores one photo in this fresh process and prints, as one JSON line, the photo's measured peak (resident set at its
/// highest during the restore minus just before it) and the engine's estimate of that peak
/// (<see cref="PhotoMemoryEstimate.PhotoBytes"/>). The engine is built as the memory tests build it: the given CodeFormer
/// model and YuNet with the production session options, batch 1. A warm-up restore first loads code, sessions and
/// pools, so the measured peak is the photo's own and not the first call's.
/// Usage: codeformer-memory-probe --model M.onnx --detector yunet.onnx --warm-up W.jpg --photo P --upscale S
/// Exit codes: 0 measured, 2 bad arguments, 3 the platform has no /proc resident set.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        ProbeArguments arguments;
        try
        {
            arguments = ProbeArguments.Parse(args);
        }
        catch (ArgumentException bad)
        {
            Console.Error.WriteLine($"codeformer-memory-probe: {bad.Message}");
            return 2;
        }
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("codeformer-memory-probe: the peak resident set is read from /proc, which only Linux has.");
            return 3;
        }

        var warmUp = File.ReadAllBytes(arguments.WarmUpPath);
        var photo = File.ReadAllBytes(arguments.PhotoPath);
        var options = new RestorationOptions { Upscale = arguments.Upscale };
        using var engine = TinyEngine(arguments);
        engine.Restore(warmUp, new RestorationOptions { Upscale = 1 });
        warmUp = null;
        var estimate = engine.EstimateMemory(photo, options);

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        ResidentSet.ResetPeak();
        long before = ResidentSet.Current();
        long managedBefore = GC.GetGCMemoryInfo().TotalCommittedBytes;
        var result = engine.Restore(photo, options);
        long peak = ResidentSet.Peak();

        Console.WriteLine(JsonSerializer.Serialize(new ProbeReport(
            MeasuredPhotoBytes: peak - before,
            EstimatedPhotoBytes: estimate.PhotoBytes,
            ResidentBeforeBytes: before,
            ManagedCommittedBeforeBytes: managedBefore,
            PeakResidentBytes: peak,
            Faces: result.Faces.Count,
            Estimate: estimate.ToString())));
        return 0;
    }

    private static RestorationEngine TinyEngine(ProbeArguments arguments)
    {
        // The production session options (no memory arena), as the factory makes them; the budget is out of the way
        // because the probe measures, it does not refuse.
        var sessionOptions = SessionOptionsFactory.Create(ExecutionDevice.Cpu, null, out _);
        var restorer = CodeFormerSession.Open(arguments.ModelPath, sessionOptions, maxBatch: 1);
        var detector = new YuNetDetector(arguments.DetectorPath, sessionOptions);
        return new RestorationEngine(restorer, detector, upsampler: null,
            new EngineSettings { BatchSize = 1, MemoryBudgetBytes = 8L << 30 }, ownedResources: [sessionOptions]);
    }
}

/// <summary>What the probe prints: one JSON object on one line, read by the memory tests.</summary>
/// <param name="ManagedCommittedBeforeBytes">The GC heap's committed part of <paramref name="ResidentBeforeBytes"/>: tells managed
/// leftovers of the warm-up from native ones when "before" differs between runs.</param>
public sealed record ProbeReport(long MeasuredPhotoBytes, long EstimatedPhotoBytes, long ResidentBeforeBytes, long ManagedCommittedBeforeBytes,
    long PeakResidentBytes, int Faces, string Estimate);

/// <summary>The probe's command line: every option is required and every path must exist.</summary>
internal sealed record ProbeArguments(string ModelPath, string DetectorPath, string WarmUpPath, string PhotoPath, int Upscale)
{
    public static ProbeArguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected '--name value' pairs, got '{args[i]}' at position {i + 1}.");
            }
            values[args[i][2..]] = args[i + 1];
        }
        string upscaleText = Required(values, "upscale");
        if (!int.TryParse(upscaleText, NumberStyles.None, CultureInfo.InvariantCulture, out int upscale) || upscale is < 1 or > 4)
        {
            throw new ArgumentException($"--upscale must be 1, 2, 3 or 4, got '{upscaleText}'.");
        }
        return new ProbeArguments(ExistingFile(values, "model"), ExistingFile(values, "detector"), ExistingFile(values, "warm-up"),
            ExistingFile(values, "photo"), upscale);
    }

    private static string Required(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is missing.");

    private static string ExistingFile(Dictionary<string, string> values, string name)
    {
        string path = Required(values, name);
        return File.Exists(path) ? path : throw new ArgumentException($"--{name}: no file at '{path}'.");
    }
}

/// <summary>This process's resident set now and at its peak, from /proc/self/status.</summary>
internal static class ResidentSet
{
    public static long Current() => Read("VmRSS:");

    public static long Peak() => Read("VmHWM:");

    /// <summary>Writing 5 to /proc/self/clear_refs resets the peak resident set (VmHWM) to the current one.</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long Read(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"/proc/self/status has no {field} line.");
    }
}
