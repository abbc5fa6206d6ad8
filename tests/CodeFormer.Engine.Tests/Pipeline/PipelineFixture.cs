using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Upsampling;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>
/// Engines shared by the pipeline tests, each built on first use (so machines without the assets never open the
/// detector): an identity-like CodeFormer (output = input, the weight consumed as ·0) with the real YuNet, and a
/// deterministic tiny random CodeFormer (64² faces) at batch sizes 1 and 4. Shared by every class of
/// <see cref="PipelineCollection"/>, whose tests run one after the other (an engine takes one photo at a time).
/// </summary>
public sealed class PipelineFixture : IDisposable
{
    public const string YuNet = "models/face_detection_yunet_2023mar.onnx";
    public const string RetinaFace = "models/retinaface_mobilenet0.25_640.onnx";
    public const string Astronaut = "images/astronaut.png";
    public const string Solvay = "images/solvay_1927_1280x926.png";
    public const string SolvayJpeg = "images/solvay_1927_2126x1463.jpg";
    public const string HopperTiny = "images/hopper_128x128.png";
    public const string HopperJpeg = "images/grace_hopper_517x606.jpg";
    public const string Bryan = "images/codait_bryan_115x115.png";
    public const int TinySeed = 7;

    private readonly TempFolder _folder = new();
    private readonly Dictionary<string, RestorationEngine> _engines = [];
    private readonly Dictionary<string, object> _cache = [];

    public SessionOptions SessionOptions { get; } = new();

    public RestorationEngine Identity => Engine("identity", () => Open(IdentityModelPath, batchSize: 4, withDetector: true));

    /// <summary>The identity model without a detector: only aligned inputs can be restored.</summary>
    public RestorationEngine IdentityWithoutDetector => Engine("identity-aligned-only", () => Open(IdentityModelPath, batchSize: 4, withDetector: false));

    /// <summary>The identity model with a nearest-neighbour ×2 stand-in for Real-ESRGAN (same contract, known answer).</summary>
    public RestorationEngine IdentityWithUpsampler => Engine("identity-upsampler", () =>
    {
        var restorer = CodeFormerSession.Open(IdentityModelPath, SessionOptions, maxBatch: 4);
        var detector = new YuNetDetector(TestAssets.PathOf(YuNet), SessionOptions);
        var upsampler = RealEsrganUpsampler.FromBytes(TestModels.Bytes(Upsampling.FakeUpsamplers.NearestX2()), SessionOptions);
        return new RestorationEngine(restorer, detector, upsampler, new EngineSettings { BatchSize = 4, NeedsBackgroundModel = true });
    });

    public RestorationEngine TinyBatch1 => Engine("tiny-1", () => Open(TinyModelPath, batchSize: 1, withDetector: true));

    public RestorationEngine TinyBatch4 => Engine("tiny-4", () => Open(TinyModelPath, batchSize: 4, withDetector: true));

    /// <summary>A detector of the engine's kind and options, for comparing the engine's face count with the detector's own.</summary>
    public IFaceDetector Detector => Cached("detector", () => new YuNetDetector(TestAssets.PathOf(YuNet), SessionOptions));

    public string IdentityModelPath => Cached("identity.onnx", () => _folder.Write("identity.onnx", IdentityGraph(FfhqTemplate.ReferenceSize)));

    public string TinyModelPath => Cached("tiny.onnx", () =>
    {
        var tiny = CodeFormerArchitecture.Tiny;
        string path = System.IO.Path.Combine(_folder.Path, "tiny.onnx");
        CodeFormerOnnxExporter.WriteFile(tiny, RandomWeights.Create(new ParameterLayout(new NetworkLayout(tiny)), TinySeed), path, new CodeFormerExportOptions());
        return path;
    });

    public byte[] Photo(string asset) => Cached("bytes:" + asset, () => File.ReadAllBytes(TestAssets.PathOf(asset)));

    /// <summary>A result computed once and reused by several tests (e.g. the 29-face Solvay run).</summary>
    public T Cached<T>(string key, Func<T> create) where T : notnull
    {
        lock (_cache)
        {
            if (!_cache.TryGetValue(key, out var value))
            {
                value = create();
                _cache[key] = value;
            }
            return (T)value;
        }
    }

    /// <summary>CodeFormer's calling contract (input [N,3,S,S] float, weight [1] double) with output = input exactly.</summary>
    public static OnnxGraph IdentityGraph(int size)
    {
        var graph = new OnnxGraph("identity_codeformer");
        string x = graph.AddInput("input", OnnxElementType.Float, "N", 3, size, size);
        string w = graph.AddInput("weight", OnnxElementType.Double, 1);
        string wf = graph.Op("Cast", "weight_float", [w], OnnxAttribute.Of("to", (long)OnnxElementType.Float));
        // w·0 added to the image keeps the weight a real input of the graph without changing any value.
        string zero = graph.Op("Mul", "weight_times_zero", [wf, graph.AddScalarFloat("nought", 0f)]);
        graph.Alias(graph.Op("Add", "same", [x, zero]), "output");
        graph.AddOutput("output", OnnxElementType.Float, "N", 3, size, size);
        return graph;
    }

    public RestorationEngine Open(string modelPath, int batchSize, bool withDetector)
    {
        // As RestorationEngineFactory does, minus the model cache: the session's dynamic-batch limit is the engine's batch size.
        var restorer = CodeFormerSession.Open(modelPath, SessionOptions, maxBatch: Math.Max(1, batchSize));
        var detector = withDetector ? new YuNetDetector(TestAssets.PathOf(YuNet), SessionOptions) : null;
        try
        {
            return new RestorationEngine(restorer, detector, upsampler: null, new EngineSettings { BatchSize = batchSize });
        }
        catch
        {
            restorer.Dispose();
            detector?.Dispose();
            throw;
        }
    }

    private RestorationEngine Engine(string key, Func<RestorationEngine> create)
    {
        lock (_engines)
        {
            if (!_engines.TryGetValue(key, out var engine))
            {
                engine = create();
                _engines[key] = engine;
            }
            return engine;
        }
    }

    public void Dispose()
    {
        foreach (var engine in _engines.Values)
        {
            engine.Dispose();
        }
        foreach (var value in _cache.Values)
        {
            (value as IDisposable)?.Dispose();
        }
        SessionOptions.Dispose();
        _folder.Dispose();
    }
}

/// <summary>The pipeline test classes: one <see cref="PipelineFixture"/> for all, tests run sequentially.</summary>
[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<PipelineFixture>
{
    public const string Name = "Pipeline engines";
}

/// <summary>An <see cref="IProgress{T}"/> that records reports on the calling thread (Progress&lt;T&gt; posts them later).</summary>
internal sealed class RecordingProgress(Action<RestorationProgress>? onReport = null) : IProgress<RestorationProgress>
{
    public List<RestorationProgress> Reports { get; } = [];

    public void Report(RestorationProgress value)
    {
        Reports.Add(value);
        onReport?.Invoke(value);
    }
}
