using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Runtime;

/// <summary>Human-readable shapes and types of ONNX Runtime node metadata, for messages and inspection.</summary>
internal static class Shape
{
    /// <summary>Dimension labels: the fixed size, the symbolic name, or "?" for an unnamed free axis.</summary>
    public static string[] Labels(NodeMetadata meta)
    {
        if (!meta.IsTensor)
        {
            return [];
        }
        var dims = meta.Dimensions;
        var symbols = meta.SymbolicDimensions;
        var labels = new string[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            string symbol = i < symbols.Length ? symbols[i] : "";
            labels[i] = dims[i] >= 0 ? dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture)
                : string.IsNullOrEmpty(symbol) ? "?" : symbol;
        }
        return labels;
    }

    public static string Describe(NodeMetadata meta) => $"[{string.Join(",", Labels(meta))}]";

    public static string DescribeType(NodeMetadata meta)
        => meta.IsTensor ? meta.ElementDataType.ToString().ToLowerInvariant() : meta.OnnxValueType.ToString();
}
