using System.Diagnostics;
using CodeFormer.Engine.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CodeFormer.Engine.Restoration;

/// <summary>
/// The one door to the network for every photo in flight. Photos hand in aligned faces (already in the network's
/// layout) and await them back; one device loop takes the oldest waiting face and every other waiting face with the
/// same fidelity, up to <see cref="MaxBatch"/>, and runs them as one batch. While a batch runs, the photos' CPU stages
/// (decode, detection, alignment, paste-back, encode) go on on the thread pool and queue the next faces, so under load
/// the network is never waiting on the CPU and batches fill with faces of different photos.
/// <para>
/// Batches never wait to fill: a lone face on an idle device runs at once (lowest latency), and the queue that builds
/// up while the device is busy is what fills the next batch (highest throughput).
/// </para>
/// <para>
/// Isolation: a batch that fails is retried face by face, so one photo's bad face fails only that photo. Cancelling a
/// photo drops its faces that are still waiting; a face already on the device finishes and is discarded (the batch
/// belongs to other photos too).
/// </para>
/// </summary>
public sealed class FaceBatcher : IDisposable
{
    private readonly IFaceRestorer _restorer;
    private readonly ILogger _logger;
    private readonly LinkedList<PendingFace> _queue = new();
    private readonly Thread _deviceLoop;
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _faceLength;
    private readonly long[] _batchSizeCounts;
    // Only the device loop touches these: grown on demand, reused for every batch.
    private float[] _input = [];
    private float[] _output = [];
    private long _batches;
    private long _faces;
    private long _busyTicks;
    private bool _disposed;

    public FaceBatcher(IFaceRestorer restorer, int maxBatch, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(restorer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _restorer = restorer;
        _logger = logger ?? NullLogger.Instance;
        MaxBatch = maxBatch;
        FaceSize = restorer.FaceSize;
        _faceLength = 3 * FaceSize * FaceSize;
        _batchSizeCounts = new long[maxBatch + 1];
        // A dedicated thread, not a pool task: the network call blocks for its whole duration (a GPU batch, or seconds on
        // a CPU), and must not take a pool thread from the photos' CPU stages that keep it fed.
        _deviceLoop = new Thread(RunDeviceLoop) { IsBackground = true, Name = "face batcher" };
        _deviceLoop.Start();
    }

    public int MaxBatch { get; }
    public int FaceSize { get; }

    /// <summary>Values of one face in the network's layout (3 × FaceSize², NCHW, RGB in [-1, 1]).</summary>
    public int FaceLength => _faceLength;

    /// <summary>
    /// Queues one face and completes with the network's output for it (unclamped, same layout), written over the input
    /// in the same array: each face's array is its slot both ways, so no face-sized array is made per face. Faults of the
    /// network come back as <see cref="ModelFaultException"/>; a cancelled wait as <see cref="OperationCanceledException"/>.
    /// After a cancellation the array may still be written by a batch that was already on the device: do not reuse it.
    /// </summary>
    public Task<float[]> RestoreAsync(float[] face, double fidelity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(face);
        if (face.Length != _faceLength)
        {
            throw new ArgumentException($"A face holds {_faceLength} values (3 × {FaceSize}²), got {face.Length}.", nameof(face));
        }
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<float[]>(cancellationToken);
        }
        var pending = new PendingFace(face, fidelity, cancellationToken);
        LinkedListNode<PendingFace> node;
        lock (_queue)
        {
            node = _queue.AddLast(pending);
            Monitor.Pulse(_queue);
        }
        if (cancellationToken.CanBeCanceled)
        {
            pending.Registration = cancellationToken.Register(() =>
            {
                // Only a face still waiting is taken out; one already taken by the device loop completes there.
                bool removed;
                lock (_queue)
                {
                    removed = node.List is not null;
                    if (removed)
                    {
                        _queue.Remove(node);
                    }
                }
                if (removed)
                {
                    pending.Completion.TrySetCanceled(cancellationToken);
                }
            });
        }
        return pending.Completion.Task;
    }

    /// <summary>Counters since the batcher started; hosts and benchmarks diff two snapshots.</summary>
    public FaceBatcherStatistics Statistics
    {
        get
        {
            lock (_queue)
            {
                return new FaceBatcherStatistics(_batches, _faces, TimeSpan.FromTicks(_busyTicks), _queue.Count, (long[])_batchSizeCounts.Clone());
            }
        }
    }

    private void RunDeviceLoop()
    {
        var batch = new List<PendingFace>(MaxBatch);
        while (TakeBatch(batch))
        {
            RunBatch(batch);
            batch.Clear();
        }
    }

    /// <summary>Waits for faces, then takes the oldest and every later one with its fidelity, up to the batch size.</summary>
    private bool TakeBatch(List<PendingFace> batch)
    {
        lock (_queue)
        {
            while (_queue.Count == 0)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return false;
                }
                Monitor.Wait(_queue);
            }
            // One network call has one fidelity weight: faces asking for another wait for the next batch.
            double fidelity = _queue.First!.Value.Fidelity;
            for (var node = _queue.First; node is not null && batch.Count < MaxBatch;)
            {
                var next = node.Next;
                if (node.Value.Fidelity.Equals(fidelity))
                {
                    batch.Add(node.Value);
                    _queue.Remove(node);
                }
                node = next;
            }
            return true;
        }
    }

    private void RunBatch(List<PendingFace> batch)
    {
        foreach (var face in batch)
        {
            face.Registration.Dispose();
        }
        try
        {
            Run(batch);
            return;
        }
        catch (Exception ex) when (batch.Count > 1 && !_stopping.IsCancellationRequested)
        {
            _logger.LogWarning(ex, "A batch of {Count} faces failed; retrying them one by one so only the faulty face fails", batch.Count);
        }
        catch (Exception ex)
        {
            // A single face, or a batch cut short by disposal: nothing to retry.
            foreach (var face in batch)
            {
                face.Completion.TrySetException(Fault(ex));
            }
            return;
        }
        foreach (var face in batch)
        {
            try
            {
                Run([face]);
            }
            catch (Exception ex)
            {
                face.Completion.TrySetException(Fault(ex));
            }
        }
    }

    /// <summary>Packs the faces side by side, runs them as one call and hands each its slice of the output.</summary>
    private void Run(List<PendingFace> faces)
    {
        int count = faces.Count;
        int length = count * _faceLength;
        if (_input.Length < length)
        {
            _input = new float[MaxBatch * _faceLength];
            _output = new float[MaxBatch * _faceLength];
        }
        for (int i = 0; i < count; i++)
        {
            faces[i].Face.CopyTo(_input, i * _faceLength);
        }
        long start = Stopwatch.GetTimestamp();
        try
        {
            _restorer.Restore(_input.AsSpan(0, length), count, faces[0].Fidelity, _output.AsSpan(0, length), _stopping.Token);
        }
        finally
        {
            long elapsed = Stopwatch.GetTimestamp() - start;
            lock (_queue)
            {
                _busyTicks += (long)(elapsed * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                _batches++;
                _faces += count;
                _batchSizeCounts[count]++;
            }
        }
        for (int i = 0; i < count; i++)
        {
            // The output buffer is reused by the next batch: each face's result goes back into its own array, whose
            // input the batch has consumed (a failed batch never gets here, so its retry still reads the inputs).
            _output.AsSpan(i * _faceLength, _faceLength).CopyTo(faces[i].Face);
            faces[i].Completion.TrySetResult(faces[i].Face);
        }
    }

    private Exception Fault(Exception ex) => ex switch
    {
        OperationCanceledException when _stopping.IsCancellationRequested => new ObjectDisposedException(nameof(FaceBatcher), "The engine was disposed while the face waited."),
        RestorationException => ex,
        _ => new ModelFaultException($"The restoration network failed on a face: {ex.Message}", ex),
    };

    /// <summary>
    /// Stops the device loop: the batch in progress is cancelled through the restorer's token and its faces, like the
    /// faces still waiting, fail with <see cref="ObjectDisposedException"/>. Returns when the loop has ended.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        List<PendingFace> abandoned;
        lock (_queue)
        {
            _stopping.Cancel();
            abandoned = [.. _queue];
            _queue.Clear();
            Monitor.PulseAll(_queue);
        }
        foreach (var face in abandoned)
        {
            face.Completion.TrySetException(new ObjectDisposedException(nameof(FaceBatcher), "The engine was disposed while the face waited."));
        }
        _deviceLoop.Join();
        _stopping.Dispose();
    }

    private sealed class PendingFace(float[] face, double fidelity, CancellationToken cancellationToken)
    {
        public float[] Face { get; } = face;
        public double Fidelity { get; } = fidelity;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        // Continuations run on the pool, never inline on the device loop: it must go straight back to the queue.
        public TaskCompletionSource<float[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
    }
}

/// <summary>What the batcher has done: batches and faces run, time the network was busy, faces waiting now.</summary>
/// <param name="BatchSizeCounts">How many batches of each size ran (index = faces in the batch).</param>
public sealed record FaceBatcherStatistics(long Batches, long Faces, TimeSpan DeviceBusy, int QueuedFaces, IReadOnlyList<long> BatchSizeCounts)
{
    public double FacesPerBatch => Batches == 0 ? 0 : (double)Faces / Batches;

    /// <summary>The work done between an earlier snapshot and this one.</summary>
    public FaceBatcherStatistics Since(FaceBatcherStatistics earlier) => new(
        Batches - earlier.Batches,
        Faces - earlier.Faces,
        DeviceBusy - earlier.DeviceBusy,
        QueuedFaces,
        BatchSizeCounts.Select((count, i) => count - (i < earlier.BatchSizeCounts.Count ? earlier.BatchSizeCounts[i] : 0)).ToArray());
}
