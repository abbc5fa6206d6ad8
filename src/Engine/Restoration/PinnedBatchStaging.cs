using System.Collections.Concurrent;
using CodeFormer.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Restoration;

/// <summary>
/// Page-locked ("CudaPinned") host buffers for IO-bound face batches on CUDA. From pageable memory the CUDA driver
/// copies a batch through its own small pinned bounce buffer, synchronously and at a fraction of the bus speed; from
/// pinned memory the copy is one DMA transfer that runs asynchronously on the copy engine. A batch of 8 faces at 512² is
/// 25 MB each way, so this is where the bytes of every batch go through. CPU sessions never use it (there is no device to
/// copy to, and the CPU provider has no pinned allocator).
/// <para>
/// Buffers are pooled, one pair per concurrent caller (the face batcher is one), grown to the largest batch asked for
/// and freed only with the staging, because pinning memory is slow (it maps and locks pages) and pinned memory is scarce.
/// </para>
/// </summary>
internal sealed class PinnedBatchStaging : IDisposable
{
    /// <summary>ONNX Runtime's name of the CUDA provider's pinned host allocator.</summary>
    public const string AllocatorName = "CudaPinned";

    private readonly OrtAllocator _allocator;
    private readonly ConcurrentBag<Buffers> _idle = [];
    private readonly List<Buffers> _all = [];
    private bool _disposed;

    private PinnedBatchStaging(OrtMemoryInfo info, OrtAllocator allocator)
    {
        Info = info;
        _allocator = allocator;
    }

    /// <summary>The memory info the staged batches are bound with (CudaPinned, host memory the device can reach).</summary>
    public OrtMemoryInfo Info { get; }

    /// <summary>
    /// The pinned allocator of a CUDA session. A session without the CUDA provider has none: that is refused here, at
    /// open, with the reason, rather than on the first photo.
    /// </summary>
    /// <exception cref="GpuUnavailableException">The session does not run on CUDA.</exception>
    public static PinnedBatchStaging Create(InferenceSession session, int deviceId)
    {
        var info = new OrtMemoryInfo(AllocatorName, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.CpuOutput);
        try
        {
            return new PinnedBatchStaging(info, new OrtAllocator(session, info));
        }
        catch (OnnxRuntimeException ex)
        {
            info.Dispose();
            throw new GpuUnavailableException($"CUDA-pinned host memory ('{AllocatorName}', device {deviceId}) is not available to this " +
                $"session, which does not run on the CUDA provider ({ex.Message.Split('\n')[0].Trim()})", ex);
        }
    }

    /// <summary>A pair of buffers of at least <paramref name="values"/> floats each; give it back with <see cref="Return"/>.</summary>
    public Buffers Rent(long values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_idle.TryTake(out var buffers))
        {
            buffers = new Buffers();
            lock (_all)
            {
                _all.Add(buffers);
            }
        }
        if (buffers.Capacity < values)
        {
            buffers.Grow(_allocator, values);
        }
        return buffers;
    }

    public void Return(Buffers buffers) => _idle.Add(buffers);

    /// <summary>Frees every buffer; only when no call is running (the owning session's rule).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        lock (_all)
        {
            foreach (var buffers in _all)
            {
                buffers.Dispose();
            }
        }
        _allocator.Dispose();
        Info.Dispose();
    }

    /// <summary>An input and an output buffer of the same size.</summary>
    internal sealed class Buffers : IDisposable
    {
        private OrtMemoryAllocation? _input;
        private OrtMemoryAllocation? _output;

        public long Capacity { get; private set; }
        // A SafeHandle whose handle is the allocation itself (its Pointer property is internal to ONNX Runtime).
        public IntPtr Input => _input!.DangerousGetHandle();
        public IntPtr Output => _output!.DangerousGetHandle();

        public void Grow(OrtAllocator allocator, long values)
        {
            Dispose();
            // ONNX Runtime's managed Allocate takes a uint: 4 GiB per buffer, far above a batch of 512² faces (3 MiB each).
            uint bytes = checked((uint)(values * sizeof(float)));
            _input = allocator.Allocate(bytes);
            _output = allocator.Allocate(bytes);
            Capacity = values;
        }

        public void Dispose()
        {
            _input?.Dispose();
            _output?.Dispose();
            _input = _output = null;
            Capacity = 0;
        }
    }
}
