using CodeFormer.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Detection;

/// <summary>
/// One ONNX Runtime session for a detector: checks the graph's input and outputs once, then runs a single
/// float input and copies out the named float outputs. Cancellation terminates a run in progress.
/// </summary>
internal sealed class DetectorSession : IDisposable
{
    private readonly InferenceSession _session;

    public string InputName { get; }
    /// <summary>The input's dimensions as the graph declares them; -1 (or less) for a dynamic axis.</summary>
    public IReadOnlyList<int> InputDimensions { get; }
    public string ModelDescription { get; }

    private DetectorSession(InferenceSession session, string description, IReadOnlyCollection<string> requiredOutputs)
    {
        _session = session;
        ModelDescription = description;
        try
        {
            if (session.InputMetadata.Count != 1)
            {
                throw new InvalidDataException(
                    $"{description}: a face detector must have exactly one input, this model has {session.InputMetadata.Count} ({string.Join(", ", session.InputMetadata.Keys)}).");
            }
            var (name, metadata) = session.InputMetadata.First();
            if (metadata.ElementType != typeof(float) || metadata.Dimensions.Length != 4)
            {
                throw new InvalidDataException(
                    $"{description}: input '{name}' must be float32 NCHW, it is {metadata.ElementType.Name} with shape [{string.Join(",", metadata.Dimensions)}].");
            }
            InputName = name;
            InputDimensions = metadata.Dimensions;
            var missing = requiredOutputs.Where(o => !session.OutputMetadata.ContainsKey(o)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidDataException(
                    $"{description}: missing output(s) {string.Join(", ", missing)}; the model has {string.Join(", ", session.OutputMetadata.Keys)}.");
            }
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public static DetectorSession Open(string modelPath, SessionOptions options, IReadOnlyCollection<string> requiredOutputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"Face detector model not found: {modelPath}", modelPath);
        }
        OnnxExternalDataCheck.Check(modelPath);
        return new DetectorSession(new InferenceSession(modelPath, options), Path.GetFileName(modelPath), requiredOutputs);
    }

    public static DetectorSession Open(byte[] model, SessionOptions options, IReadOnlyCollection<string> requiredOutputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (model.Length == 0)
        {
            throw new ArgumentException("Face detector model bytes are empty.", nameof(model));
        }
        return new DetectorSession(new InferenceSession(model, options), $"in-memory model ({model.Length} bytes)", requiredOutputs);
    }

    /// <summary>
    /// Runs the model on one NCHW tensor and hands the requested outputs, as flat arrays, to <paramref name="read"/>.
    /// The arrays are valid only during that call. With <paramref name="keepOutputs"/> they are kept for the next run, because a video detects on every
    /// frame and fresh output copies each time were large-object garbage (hundreds of KiB a frame) that only full
    /// collections free. Concurrent runs each get their own arrays.
    /// </summary>
    public T Run<T>(float[] input, int height, int width, IReadOnlyList<string> outputNames, bool keepOutputs, CancellationToken cancellationToken, Func<float[][], T> read)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long[] shape = [1, 3, height, width];
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
        float[][] copies;
        try
        {
            using var outputs = _session.Run(runOptions, [InputName], [inputValue], outputNames);
            copies = Interlocked.Exchange(ref _spareOutputs, null) is { } spare && spare.Length == outputs.Count ? spare : new float[outputs.Count][];
            for (int i = 0; i < copies.Length; i++)
            {
                var values = outputs[i].GetTensorDataAsSpan<float>();
                if (copies[i]?.Length != values.Length)
                {
                    copies[i] = new float[values.Length];
                }
                values.CopyTo(copies[i]);
            }
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("Face detection was cancelled.", cancellationToken);
        }
        try
        {
            return read(copies);
        }
        finally
        {
            if (keepOutputs)
            {
                Volatile.Write(ref _spareOutputs, copies);
            }
        }
    }

    private float[][]? _spareOutputs;

    public void Dispose() => _session.Dispose();
}
