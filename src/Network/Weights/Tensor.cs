namespace CodeFormer.Network.Weights;

/// <summary>A dense float32 tensor in row-major (C) order.</summary>
public sealed class Tensor
{
    public int[] Shape { get; }
    public float[] Data { get; }

    public Tensor(int[] shape, float[] data)
    {
        long expected = shape.Aggregate(1L, (n, d) => n * d);
        if (expected != data.Length)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", shape)}) needs {expected} values, got {data.Length}.");
        }
        Shape = shape;
        Data = data;
    }

    public long ElementCount => Data.LongLength;
}
