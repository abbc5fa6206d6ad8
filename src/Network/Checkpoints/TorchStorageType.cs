namespace CodeFormer.Network.Checkpoints;

/// <summary>Element types a torch storage can hold (the ones state dicts use).</summary>
internal enum TorchScalarType
{
    Float32,
    Float16,
    BFloat16,
    Float64,
    Int64,
    Int32,
    Int16,
    Int8,
    UInt8,
    Bool,
}

/// <summary>
/// A storage class such as <c>torch.FloatStorage</c>, as pickles name it. It says how to read a
/// storage's bytes; pickles refer to it as a global inside each persistent id.
/// </summary>
internal sealed class TorchStorageType
{
    private static readonly TorchStorageType[] Known =
    [
        new("FloatStorage", TorchScalarType.Float32, 4),
        new("HalfStorage", TorchScalarType.Float16, 2),
        new("BFloat16Storage", TorchScalarType.BFloat16, 2),
        new("DoubleStorage", TorchScalarType.Float64, 8),
        new("LongStorage", TorchScalarType.Int64, 8),
        new("IntStorage", TorchScalarType.Int32, 4),
        new("ShortStorage", TorchScalarType.Int16, 2),
        new("CharStorage", TorchScalarType.Int8, 1),
        new("ByteStorage", TorchScalarType.UInt8, 1),
        new("BoolStorage", TorchScalarType.Bool, 1),
    ];

    public string Name { get; }
    public TorchScalarType ScalarType { get; }
    public int ElementSize { get; }

    private TorchStorageType(string name, TorchScalarType scalarType, int elementSize)
    {
        Name = name;
        ScalarType = scalarType;
        ElementSize = elementSize;
    }

    /// <summary>Floating-point storages become weights; integer ones (BatchNorm's num_batches_tracked) do not.</summary>
    public bool IsFloatingPoint => ScalarType is TorchScalarType.Float32 or TorchScalarType.Float16
        or TorchScalarType.BFloat16 or TorchScalarType.Float64;

    public static TorchStorageType? FromName(string name) => Known.FirstOrDefault(t => t.Name == name);

    public static TorchStorageType Of(TorchScalarType scalarType) => Known.First(t => t.ScalarType == scalarType);

    public static IEnumerable<string> Names => Known.Select(t => t.Name);

    public override string ToString() => "torch." + Name;
}

/// <summary>
/// What a persistent id points at: <see cref="ElementCount"/> elements of one stored blob, starting
/// <see cref="ElementOffset"/> elements in (non-zero only for legacy-format storage views).
/// </summary>
internal sealed record TorchStorageReference(TorchStorageType Type, string Key, long ElementOffset, long ElementCount)
{
    /// <summary>Checked: a storage count near 2^63 must not wrap to a small byte count.</summary>
    public long ByteCount => checked(ElementCount * Type.ElementSize);
}

/// <summary>A tensor as <c>_rebuild_tensor_v2</c> describes it: a strided view into a storage, data not yet read.</summary>
internal sealed record TorchTensorReference(TorchStorageReference Storage, long StorageOffset, int[] Shape, long[] Stride)
{
    /// <summary>Checked: a shape whose product wraps (to 0, say) must not pass as a small tensor.</summary>
    public long ElementCount => Shape.Aggregate(1L, (n, d) => checked(n * d));

    /// <summary>
    /// The storage element the view's last element sits at (offset + Σ (size−1)·stride), computed checked so that a
    /// stride of 2^62 or a span past 2^63 is refused instead of wrapping past the bounds check; -1 for an empty tensor.
    /// </summary>
    public long LastStorageIndex()
    {
        if (Shape.Any(d => d == 0))
        {
            return -1;
        }
        long last = StorageOffset;
        for (int i = 0; i < Shape.Length; i++)
        {
            last = checked(last + checked((Shape[i] - 1L) * Stride[i]));
        }
        return last;
    }

    public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Length == 1 ? ",)" : ")");
}
