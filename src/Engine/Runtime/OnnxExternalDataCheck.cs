using System.Text;

namespace CodeFormer.Engine.Runtime;

/// <summary>
/// Checks, before ONNX Runtime opens a model file, every external-data "location" its tensors name: each must be a plain
/// relative path to an existing file inside the model's folder. ORT 1.31 refuses the others itself, but with its internal
/// text ("tensorprotoutils.cc:434 ValidateExternalDataPathFromDir …"); this says which tensor names which file and why.
/// Only the protobuf's headers are read: tensor bytes (raw_data) are skipped by seeking, so a 400 MB model costs a few
/// thousand small reads.
/// </summary>
public static class OnnxExternalDataCheck
{
    private const int MaxDepth = 32;

    private enum Kind { Model, Graph, Node, Attribute, Tensor, SparseTensor, Function, Entry }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the tensor and the rule when a location is unsafe or missing.</summary>
    public static void Check(string modelPath)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        using var stream = new BufferedStream(new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1), 64 * 1024);
        try
        {
            Walk(stream, stream.Length, Kind.Model, 0, modelPath, folder);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"Model '{modelPath}' is not a whole ONNX file: a field runs past its end (truncated?).");
        }
    }

    /// <summary>The sub-messages that can hold tensors, by (message kind, field number).</summary>
    private static Kind? Child(Kind parent, int field) => (parent, field) switch
    {
        (Kind.Model, 7) => Kind.Graph,
        (Kind.Model, 25) => Kind.Function,
        (Kind.Function, 7) => Kind.Node,
        (Kind.Graph, 1) => Kind.Node,
        (Kind.Graph, 5) => Kind.Tensor,
        (Kind.Graph, 15) => Kind.SparseTensor,
        (Kind.Node, 5) => Kind.Attribute,
        (Kind.Attribute, 5 or 10) => Kind.Tensor,
        (Kind.Attribute, 6 or 11) => Kind.Graph,
        (Kind.Attribute, 22 or 23) => Kind.SparseTensor,
        (Kind.SparseTensor, 1 or 2) => Kind.Tensor,
        (Kind.Tensor, 13) => Kind.Entry,
        _ => null,
    };

    private static void Walk(Stream stream, long end, Kind kind, int depth, string modelPath, string folder)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"Model '{modelPath}' nests graphs more than {MaxDepth} deep.");
        }
        string? tensorName = null;
        var locations = new List<string>();
        while (stream.Position < end)
        {
            ulong tag = ReadVarint(stream);
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            switch (wire)
            {
                case 0:
                    ReadVarint(stream);
                    break;
                case 1:
                    Skip(stream, 8, end);
                    break;
                case 5:
                    Skip(stream, 4, end);
                    break;
                case 2:
                    ulong length = ReadVarint(stream);
                    if (length > (ulong)(end - stream.Position))
                    {
                        throw new InvalidDataException($"Model '{modelPath}' is not a whole ONNX file: a field of {length} bytes runs past its end (truncated?).");
                    }
                    long fieldEnd = stream.Position + (long)length;
                    if (Child(kind, field) is { } child)
                    {
                        if (child == Kind.Entry)
                        {
                            var (k, v) = ReadEntry(stream, fieldEnd);
                            if (k == "location")
                            {
                                locations.Add(v ?? "");
                            }
                        }
                        else
                        {
                            Walk(stream, fieldEnd, child, depth + 1, modelPath, folder);
                        }
                    }
                    else if (kind == Kind.Tensor && field == 8 && length <= 4096)
                    {
                        tensorName = ReadString(stream, (int)length);
                    }
                    stream.Position = fieldEnd;
                    break;
                default:
                    throw new InvalidDataException($"Model '{modelPath}' is not an ONNX file: field {field} has the unknown wire type {wire}.");
            }
        }
        if (stream.Position != end)
        {
            throw new InvalidDataException($"Model '{modelPath}' is not a whole ONNX file: a field runs past its end (truncated?).");
        }
        foreach (string location in locations)
        {
            CheckLocation(location, tensorName ?? "(unnamed)", modelPath, folder);
        }
    }

    private static void CheckLocation(string location, string tensor, string modelPath, string folder)
    {
        string Refuse(string why) => $"Model '{modelPath}': tensor '{tensor}' keeps its data in '{location}', {why}; external data must be a file in the model's own folder.";
        if (location.Length == 0 || Path.IsPathRooted(location) || location.Contains(':', StringComparison.Ordinal))
        {
            throw new InvalidDataException(Refuse("an absolute path"));
        }
        string resolved = Path.GetFullPath(Path.Combine(folder, location));
        if (!resolved.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidDataException(Refuse("which is outside the model's folder"));
        }
        if (!File.Exists(resolved))
        {
            throw new InvalidDataException(Refuse("which does not exist"));
        }
    }

    private static (string? Key, string? Value) ReadEntry(Stream stream, long end)
    {
        string? key = null, value = null;
        while (stream.Position < end)
        {
            ulong tag = ReadVarint(stream);
            if ((tag & 7) != 2)
            {
                throw new InvalidDataException("An ONNX external-data entry has a field that is not text.");
            }
            ulong length = ReadVarint(stream);
            if (length > (ulong)(end - stream.Position) || length > 4096)
            {
                throw new InvalidDataException($"An ONNX external-data entry holds {length} bytes of text; at most 4096 are read.");
            }
            string text = ReadString(stream, (int)length);
            if (tag >> 3 == 1)
            {
                key = text;
            }
            else if (tag >> 3 == 2)
            {
                value = text;
            }
        }
        return (key, value);
    }

    private static string ReadString(Stream stream, int length)
    {
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    private static void Skip(Stream stream, int count, long end)
    {
        if (stream.Position + count > end)
        {
            throw new EndOfStreamException();
        }
        stream.Position += count;
    }

    private static ulong ReadVarint(Stream stream)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                throw new EndOfStreamException();
            }
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw new InvalidDataException("An ONNX file holds a varint longer than 10 bytes.");
    }
}
