using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;

namespace CodeFormer.Bench;

/// <summary>
/// Everything bench/device-check.sh measures on a lent GPU machine, written to one JSON file: the machine and GPU,
/// the network alone on CUDA at FP32 and FP16 for each batch size, FP16 against FP32 on the same aligned faces, whole
/// photos through the engine on CUDA (per-stage medians), and the worker situation (1, 4, 16 concurrent jobs). Models
/// are built on the machine with pseudo-random weights, as <c>models build --random</c> does: no weights travel.
/// Every number in the file was measured in this run; a section that failed records its error instead.
/// </summary>
internal static class DeviceCheck
{
    public static int Run(BenchArguments args)
    {
        string outPath = Path.GetFullPath(args.Required("out"));
        string detector = args.Required("detector-model");
        string[] photos = args.Required("photos").Split(',', StringSplitOptions.RemoveEmptyEntries);
        int[] batches = args.Ints("batches", [1, 4, 8, 16]);
        int iterations = args.Int("iterations", 5);
        string work = args.Text("work") ?? Directory.CreateTempSubdirectory("codeformer-device-check-").FullName;
        var total = Stopwatch.StartNew();
        int failedSections = 0;

        var report = new JsonObject
        {
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"),
            ["machine"] = MachineDescription.Describe(),
            ["gpu"] = NvidiaSmi(),
            ["weights"] = "pseudo-random (models build --random, seed 0): speed and FP16 error are those of the real architecture; the faces are noise",
        };
        void Save()
        {
            report["total_seconds"] = Math.Round(total.Elapsed.TotalSeconds, 1);
            File.WriteAllText(outPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        void Section(string name, Func<JsonNode> measure)
        {
            Console.WriteLine($"[{total.Elapsed.TotalSeconds,6:F1} s] {name}");
            try
            {
                report[name] = measure();
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"{name} failed: {ex}");
                report[name] = new JsonObject { ["error"] = $"{ex.GetType().Name}: {ex.Message}" };
                failedSections++;
            }
            Save();
        }

        // First, because everything after it needs CUDA: without it the file says why and the check ends in seconds
        // instead of building two full-size models for nothing.
        Section("provider", () =>
        {
            using var options = SessionOptionsFactory.Create(CudaSettings(8), out var choice);
            return new JsonObject
            {
                ["provider"] = choice.Description,
                ["cuda_options"] = new JsonObject(SessionOptionsFactory.CudaProviderOptions(new CudaSettings()).Select(o => KeyValuePair.Create(o.Key, (JsonNode?)o.Value))),
            };
        });
        if (failedSections > 0)
        {
            Console.WriteLine($"wrote {outPath} in {total.Elapsed.TotalSeconds:F0} s; CUDA is not usable here (see \"provider\"), nothing else was measured");
            return 1;
        }

        Section("pinned_transfer", () => PinnedTransfer(work, iterations));

        var models = new Dictionary<ModelPrecision, string>();
        Section("models", () =>
        {
            var built = new JsonObject();
            foreach (var precision in new[] { ModelPrecision.Fp32, ModelPrecision.Fp16 })
            {
                var start = Stopwatch.StartNew();
                models[precision] = BuildRandomModel(work, precision);
                built[precision.ToString().ToLowerInvariant()] = new JsonObject { ["path"] = models[precision], ["build_seconds"] = Math.Round(start.Elapsed.TotalSeconds, 1) };
            }
            return built;
        });

        var faces = AlignedFaces(detector, photos, 16);
        Section("network", () => Network(models, faces, batches, iterations));
        Section("network_pinned_vs_pageable", () => NetworkPinnedAgainstPageable(models[ModelPrecision.Fp16], faces, iterations));
        Section("fp16_vs_fp32", () => Fp16AgainstFp32(models, faces));
        Section("pipeline", () => Pipeline(models, detector, photos, Math.Max(1, iterations / 2)));
        Section("worker", () => Worker(models[ModelPrecision.Fp16], detector, photos));
        Console.WriteLine($"wrote {outPath} in {total.Elapsed.TotalSeconds:F0} s; {failedSections} section(s) failed");
        return failedSections == 0 ? 0 : 1;
    }

    /// <summary>
    /// The batch transfer alone: a graph that only negates a [8,3,512,512] batch on the GPU (no optimiser removes Neg),
    /// through IO binding from pageable and from CUDA-pinned host memory; a Run is one upload, a trivial kernel and one
    /// download of 25 MB each way. The staging copies into and out of pinned memory are inside the pinned figure.
    /// </summary>
    private static JsonNode PinnedTransfer(string directory, int iterations)
    {
        const int faces = 8, size = 512;
        var graph = new OnnxGraph("transfer");
        string x = graph.AddInput("input", OnnxElementType.Float, faces, 3, size, size);
        graph.Alias(graph.Op("Neg", "negated", [x]), "output");
        graph.AddOutput("output", OnnxElementType.Float, faces, 3, size, size);
        string path = Path.Combine(directory, "transfer.onnx");
        using (var stream = File.Create(path))
        {
            OnnxModelWriter.Write(graph, stream);
        }
        var input = new float[faces * 3 * size * size];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (i % 509) / 254.5f - 1;
        }
        var output = new float[input.Length];
        var result = new JsonObject { ["faces"] = faces, ["megabytes_each_way"] = Math.Round(input.Length * 4 / 1e6, 1), ["iterations"] = Math.Max(iterations, 10) };
        foreach (bool pinned in new[] { false, true })
        {
            using var options = SessionOptionsFactory.Create(CudaSettings(faces), out _);
            using var session = CodeFormerSession.Open(path, options, ioBinding: true, cudaPinnedDevice: pinned ? 0 : null);
            var sample = Measurement.Time(3, Math.Max(iterations, 10), () => session.Restore(input, faces, 0, output));
            if (output[1] != -input[1])
            {
                throw new InvalidOperationException($"The transfer graph returned {output[1]} for {input[1]}: the batch did not make the round trip.");
            }
            double gigabytesPerSecond = 2 * input.Length * 4 / 1e9 / (sample.MedianMs / 1000);
            result[pinned ? "pinned" : "pageable"] = new JsonObject
            {
                ["median_ms"] = Math.Round(sample.MedianMs, 2),
                ["min_ms"] = Math.Round(sample.MinMs, 2),
                ["round_trip_gb_per_s"] = Math.Round(gigabytesPerSecond, 1),
            };
        }
        return result;
    }

    /// <summary>The FP16 network at batch 8 and 16 with the batches bound from pageable and from pinned host memory.</summary>
    private static JsonNode NetworkPinnedAgainstPageable(string model, float[] faces, int iterations)
    {
        var rows = new JsonArray();
        int faceLength = 3 * 512 * 512;
        foreach (bool pinned in new[] { false, true })
        {
            using var options = SessionOptionsFactory.Create(CudaSettings(16, ModelPrecision.Fp16), out _);
            using var session = CodeFormerSession.Open(model, options, maxBatch: 16, ioBinding: true, cudaPinnedDevice: pinned ? 0 : null);
            var output = new float[16 * faceLength];
            foreach (int batch in new[] { 8, 16 })
            {
                var input = faces.AsSpan(0, batch * faceLength).ToArray();
                var sample = Measurement.Time(2, iterations, () => session.Restore(input, batch, 0.5, output.AsSpan(0, batch * faceLength)));
                rows.Add(new JsonObject
                {
                    ["memory"] = pinned ? "pinned" : "pageable",
                    ["batch"] = batch,
                    ["median_ms_per_batch"] = Math.Round(sample.MedianMs, 2),
                    ["min_ms"] = Math.Round(sample.MinMs, 2),
                });
            }
        }
        return rows;
    }

    private static EngineSettings CudaSettings(int batch, ModelPrecision precision = ModelPrecision.Fp32) => new()
    {
        Device = ExecutionDevice.Cuda,
        RequireGpu = true,
        BatchSize = batch,
        Precision = precision,
        Offline = true,
    };

    private static string BuildRandomModel(string directory, ModelPrecision precision)
    {
        var architecture = CodeFormerArchitecture.Full;
        string path = Path.Combine(directory, precision == ModelPrecision.Fp16 ? "random.fp16.onnx" : "random.onnx");
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), 0);
        var export = new CodeFormerExportOptions
        {
            Precision = precision == ModelPrecision.Fp16 ? OnnxPrecision.Float16 : OnnxPrecision.Float32,
            WeightsLicense = RandomWeights.LicenseNote(0),
        };
        CodeFormerOnnxExporter.WriteFile(architecture, weights, path, export);
        CodeFormerOnnxExporter.WriteFile(architecture, weights, CodeFormerOnnxExporter.CodeOnlyPathFor(path), export with { IncludeFuseBlocks = false });
        return path;
    }

    /// <summary>Real aligned 512² faces of the photos (YuNet on the CPU), repeated to <paramref name="count"/>, in the network's layout.</summary>
    private static float[] AlignedFaces(string detector, string[] photos, int count)
    {
        using var engine = new RestorationEngine(new SyntheticDevice(512, TimeSpan.Zero, 64),
            new Engine.Detection.YuNetDetector(detector, new Microsoft.ML.OnnxRuntime.SessionOptions()), null, new EngineSettings { BatchSize = 8 })
        {
            // The synthetic device holds no activations in host memory (see WorkerBenchmark).
            NetworkBytesPerFace = EngineMemoryProfile.HostTensorBytesPerFace(512),
        };
        var crops = new List<RgbImage>();
        foreach (var photo in photos)
        {
            var result = engine.Restore(File.ReadAllBytes(photo), new RestorationOptions { Upscale = 1, IncludeFaceImages = true });
            crops.AddRange(result.FaceImages.Select(f => new ImageDecoder().Decode(f.CroppedPng, new ImageLimits(), CancellationToken.None).Image));
        }
        if (crops.Count == 0)
        {
            throw new InvalidOperationException("No face was found in the photos given to the device check.");
        }
        var picked = Enumerable.Range(0, count).Select(i => crops[i % crops.Count]).ToList();
        var packed = new float[count * 3 * 512 * 512];
        FaceTensorLayout.Pack(picked, packed);
        return packed;
    }

    private static JsonNode Network(Dictionary<ModelPrecision, string> models, float[] faces, int[] batches, int iterations)
    {
        var rows = new JsonArray();
        int faceLength = 3 * 512 * 512;
        foreach (var (precision, model) in models)
        {
            int largest = batches.Max();
            var settings = CudaSettings(largest, precision);
            using var options = SessionOptionsFactory.Create(settings, out _);
            using var session = CodeFormerSession.Open(model, options, maxBatch: largest, ioBinding: true);
            var output = new float[largest * faceLength];
            foreach (int batch in batches)
            {
                var input = faces.AsSpan(0, batch * faceLength).ToArray();
                var sample = Measurement.Time(2, iterations, () => session.Restore(input, batch, 0.5, output.AsSpan(0, batch * faceLength)));
                rows.Add(new JsonObject
                {
                    ["precision"] = precision.ToString().ToLowerInvariant(),
                    ["batch"] = batch,
                    ["median_ms_per_batch"] = Math.Round(sample.MedianMs, 2),
                    ["min_ms"] = Math.Round(sample.MinMs, 2),
                    ["max_ms"] = Math.Round(sample.MaxMs, 2),
                    ["ms_per_face"] = Math.Round(sample.MedianMs / batch, 2),
                    ["faces_per_second"] = Math.Round(1000 * batch / sample.MedianMs, 1),
                    ["iterations"] = iterations,
                });
            }
        }
        return rows;
    }

    /// <summary>The same 8 faces through both precisions at w = 0.5; differences in 0..255 levels after the output clamp.</summary>
    private static JsonNode Fp16AgainstFp32(Dictionary<ModelPrecision, string> models, float[] faces)
    {
        const int count = 8;
        int length = count * 3 * 512 * 512;
        var input = faces.AsSpan(0, length).ToArray();
        var outputs = new Dictionary<ModelPrecision, float[]>();
        foreach (var (precision, model) in models)
        {
            using var options = SessionOptionsFactory.Create(CudaSettings(count, precision), out _);
            using var session = CodeFormerSession.Open(model, options, maxBatch: count, ioBinding: true);
            outputs[precision] = new float[length];
            session.Restore(input, count, 0.5, outputs[precision]);
        }
        double maxDiff = 0, sumDiff = 0, sumSquares = 0;
        var a = outputs[ModelPrecision.Fp32];
        var b = outputs[ModelPrecision.Fp16];
        for (int i = 0; i < length; i++)
        {
            double d = Math.Abs(Level(a[i]) - Level(b[i]));
            maxDiff = Math.Max(maxDiff, d);
            sumDiff += d;
            sumSquares += d * d;
        }
        double mse = sumSquares / length;
        return new JsonObject
        {
            ["faces"] = count,
            ["max_abs_diff_levels"] = Math.Round(maxDiff, 3),
            ["mean_abs_diff_levels"] = Math.Round(sumDiff / length, 4),
            ["psnr_db"] = mse == 0 ? "identical" : Math.Round(10 * Math.Log10(255.0 * 255.0 / mse), 2),
        };

        static double Level(float value) => (Math.Clamp(value, -1f, 1f) + 1) * 127.5;
    }

    private static JsonNode Pipeline(Dictionary<ModelPrecision, string> models, string detector, string[] photos, int iterations)
    {
        var rows = new JsonArray();
        foreach (var (precision, model) in models)
        {
            var settings = CudaSettings(EngineSettings.GpuBatchSize, precision);
            settings.ModelPath = model;
            settings.DetectorModelPath = detector;
            using var engine = RestorationEngineFactory.WithoutLogging().CreateAsync(settings).GetAwaiter().GetResult();
            foreach (var photo in photos)
            {
                var bytes = File.ReadAllBytes(photo);
                engine.Restore(bytes, new RestorationOptions());
                var runs = Enumerable.Range(0, iterations).Select(_ => engine.Restore(bytes, new RestorationOptions())).ToList();
                var stages = new JsonObject();
                foreach (var stage in Enum.GetValues<RestorationStage>())
                {
                    stages[stage.ToString().ToLowerInvariant()] = Math.Round(Median(runs.Select(r => r.Timings.Milliseconds.GetValueOrDefault(stage))), 1);
                }
                rows.Add(new JsonObject
                {
                    ["precision"] = precision.ToString().ToLowerInvariant(),
                    ["photo"] = Path.GetFileName(photo),
                    ["faces"] = runs[0].Faces.Count,
                    ["median_total_ms"] = Math.Round(Median(runs.Select(r => r.Timings.Total)), 1),
                    ["median_stage_ms"] = stages,
                    ["iterations"] = iterations,
                });
            }
        }
        return rows;
    }

    /// <summary>
    /// The worker benchmark with the real network on CUDA: one engine, 1, 4 and 16 concurrent jobs per photo, with the
    /// CPU time per photo by stage (one photo at a time) and the device-busy ceiling the cores allow.
    /// </summary>
    private static JsonNode Worker(string model, string detector, string[] photos)
    {
        var settings = CudaSettings(EngineSettings.GpuBatchSize, ModelPrecision.Fp16);
        settings.ModelPath = model;
        settings.DetectorModelPath = detector;
        using var engine = RestorationEngineFactory.WithoutLogging().CreateAsync(settings).GetAwaiter().GetResult();
        var options = new RestorationOptions();
        int cores = Environment.ProcessorCount;
        var rows = new JsonArray();
        foreach (var photo in photos)
        {
            var bytes = File.ReadAllBytes(photo);
            var profile = WorkerBenchmark.ProfileStages(engine, bytes, options, 4);
            var stages = new JsonObject();
            foreach (var stage in Enum.GetValues<RestorationStage>())
            {
                stages[stage.ToString().ToLowerInvariant()] = Math.Round(profile.CpuMs.GetValueOrDefault(stage), 1);
            }
            foreach (int jobs in new[] { 1, 4, 16 })
            {
                var row = WorkerBenchmark.Measure(engine, bytes, options, jobs, Math.Max(16, 3 * jobs));
                rows.Add(new JsonObject
                {
                    ["photo"] = Path.GetFileName(photo),
                    ["faces"] = profile.Faces,
                    ["precision"] = "fp16",
                    ["concurrent_jobs"] = jobs,
                    ["photos"] = row.Photos,
                    ["photos_per_second"] = Math.Round(row.PhotosPerSecond, 2),
                    ["device_busy_percent"] = Math.Round(100 * row.DeviceBusy, 1),
                    ["faces_per_batch"] = Math.Round(row.FacesPerBatch, 2),
                    ["p50_ms"] = Math.Round(row.P50, 0),
                    ["p95_ms"] = Math.Round(row.P95, 0),
                    ["cpu_ms_per_photo"] = Math.Round(row.CpuMsPerPhoto, 1),
                    ["device_ms_per_photo"] = Math.Round(row.DeviceMsPerPhoto, 1),
                    ["device_busy_ceiling_percent"] = Math.Round(100 * row.BusyCeiling, 1),
                    ["cores"] = cores,
                    ["cpu_ms_by_stage_one_at_a_time"] = stages.DeepClone(),
                });
            }
        }
        return rows;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static JsonNode? NvidiaSmi()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name,driver_version,memory.total --format=csv,noheader")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            string text = process!.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit(10_000);
            return text;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"nvidia-smi not available: {ex.Message}";
        }
    }
}
