namespace CodeFormer.Network.Onnx;

/// <summary>Serialises an <see cref="OnnxGraph"/> as an ONNX ModelProto.</summary>
public static class OnnxModelWriter
{
    /// <summary>IR version 8 with opset 17: the newest pair every ONNX Runtime since 1.14 loads.</summary>
    public const long IrVersion = 8;
    public const long OpsetVersion = 17;

    public static void Write(OnnxGraph graph, Stream output, string producerName = "CodeFormer.Cloud", long opset = OpsetVersion)
    {
        // ModelProto fields: ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8, metadata_props 14.
        var header = new ProtobufWriter();
        header.WriteVarintField(1, IrVersion);
        header.WriteStringField(2, producerName);
        header.WriteStringField(3, typeof(OnnxModelWriter).Assembly.GetName().Version?.ToString() ?? "0");
        var opsetId = new ProtobufWriter();
        opsetId.WriteStringField(1, "");
        opsetId.WriteVarintField(2, opset);
        header.WriteMessageField(8, opsetId);
        foreach (var (key, value) in graph.Metadata)
        {
            var entry = new ProtobufWriter();
            entry.WriteStringField(1, key);
            entry.WriteStringField(2, value);
            header.WriteMessageField(14, entry);
        }
        output.Write(header.ToArray());

        // GraphProto fields: node 1, name 2, initializer 5, input 11, output 12. The graph is streamed
        // part by part behind a precomputed length so huge initializers are copied only once.
        var parts = new List<(int Field, byte[] Bytes)>();
        foreach (var node in graph.Nodes)
        {
            parts.Add((1, EncodeNode(node)));
        }
        var name = new ProtobufWriter();
        name.WriteStringField(2, graph.Name);
        foreach (var tensor in graph.Initializers)
        {
            parts.Add((5, EncodeTensor(tensor)));
        }
        foreach (var input in graph.Inputs)
        {
            parts.Add((11, EncodeValueInfo(input)));
        }
        foreach (var outputInfo in graph.Outputs)
        {
            parts.Add((12, EncodeValueInfo(outputInfo)));
        }
        byte[] nameBytes = name.ToArray();
        long graphLength = nameBytes.Length + parts.Sum(p => FieldSize(p.Field, p.Bytes.Length));
        ProtobufWriter.WriteVarint(output, (7 << 3) | 2);
        ProtobufWriter.WriteVarint(output, (ulong)graphLength);
        output.Write(nameBytes);
        foreach (var (field, bytes) in parts)
        {
            ProtobufWriter.WriteVarint(output, (ulong)((field << 3) | 2));
            ProtobufWriter.WriteVarint(output, (ulong)bytes.Length);
            output.Write(bytes);
        }
    }

    /// <summary>Writes to a temporary file beside <paramref name="path"/> and renames it, so a failed write never leaves half a model.</summary>
    public static void WriteFile(OnnxGraph graph, string path, string producerName = "CodeFormer.Cloud")
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + $".{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Write(graph, stream, producerName);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static long FieldSize(int field, int length)
        => ProtobufWriter.VarintSize((ulong)((field << 3) | 2)) + ProtobufWriter.VarintSize((ulong)length) + length;

    private static byte[] EncodeNode(OnnxNode node)
    {
        var w = new ProtobufWriter();
        foreach (var input in node.Inputs)
        {
            w.WriteStringField(1, input);
        }
        foreach (var output in node.Outputs)
        {
            w.WriteStringField(2, output);
        }
        w.WriteStringField(3, node.Name);
        w.WriteStringField(4, node.OpType);
        foreach (var attribute in node.Attributes)
        {
            w.WriteBytesField(5, EncodeAttribute(attribute));
        }
        if (node.Domain.Length > 0)
        {
            w.WriteStringField(7, node.Domain);
        }
        return w.ToArray();
    }

    private static byte[] EncodeAttribute(OnnxAttribute a)
    {
        // AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20.
        var w = new ProtobufWriter();
        w.WriteStringField(1, a.Name);
        if (a.Float is { } f)
        {
            w.WriteFloatField(2, f);
            w.WriteVarintField(20, 1);
        }
        else if (a.Int is { } i)
        {
            w.WriteVarintField(3, i);
            w.WriteVarintField(20, 2);
        }
        else if (a.String is { } s)
        {
            w.WriteStringField(4, s);
            w.WriteVarintField(20, 3);
        }
        else if (a.Tensor is { } t)
        {
            w.WriteBytesField(5, EncodeTensor(t));
            w.WriteVarintField(20, 4);
        }
        else if (a.Floats is { } fs)
        {
            w.WritePackedFloat(7, fs);
            w.WriteVarintField(20, 6);
        }
        else if (a.Ints is { } ints)
        {
            w.WritePackedInt64(8, ints);
            w.WriteVarintField(20, 7);
        }
        else
        {
            throw new ArgumentException($"Attribute '{a.Name}' has no value.");
        }
        return w.ToArray();
    }

    private static byte[] EncodeTensor(OnnxTensor t)
    {
        // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
        var w = new ProtobufWriter();
        if (t.Dims.Length > 0)
        {
            w.WritePackedInt64(1, t.Dims);
        }
        w.WriteVarintField(2, (long)t.ElementType);
        w.WriteStringField(8, t.Name);
        w.WriteBytesField(9, t.RawData);
        return w.ToArray();
    }

    private static byte[] EncodeValueInfo(OnnxValueInfo v)
    {
        // ValueInfoProto{name 1, type 2}; TypeProto{tensor_type 1}; Tensor{elem_type 1, shape 2};
        // TensorShapeProto{dim 1}; Dimension{dim_value 1, dim_param 2}.
        var shape = new ProtobufWriter();
        foreach (var dim in v.Shape)
        {
            var d = new ProtobufWriter();
            if (dim.Value is { } value)
            {
                d.WriteVarintField(1, value);
            }
            else
            {
                d.WriteStringField(2, dim.Symbol ?? "?");
            }
            shape.WriteMessageField(1, d);
        }
        var tensorType = new ProtobufWriter();
        tensorType.WriteVarintField(1, (long)v.ElementType);
        tensorType.WriteMessageField(2, shape);
        var type = new ProtobufWriter();
        type.WriteMessageField(1, tensorType);
        var info = new ProtobufWriter();
        info.WriteStringField(1, v.Name);
        info.WriteMessageField(2, type);
        return info.ToArray();
    }
}
