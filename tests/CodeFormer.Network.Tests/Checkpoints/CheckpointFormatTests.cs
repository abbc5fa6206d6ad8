using System.Buffers.Binary;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;

namespace CodeFormer.Network.Tests.Checkpoints;

public sealed class CheckpointFormatTests
{
    private static WeightSet TinyWeights(ulong seed) =>
        RandomWeights.Create(new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Tiny)), seed);

    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void Writer_and_reader_round_trip_every_tensor_exactly_and_in_order(string format)
    {
        using var dir = new TemporaryDirectory();
        var written = TinyWeights(7);
        string path = dir.File("tiny.pth");
        var topLevel = new Dictionary<string, WeightSet> { ["params_ema"] = written };

        if (format == "zip")
        {
            TorchCheckpointWriter.WriteZip(path, topLevel);
        }
        else
        {
            TorchCheckpointWriter.WriteLegacy(path, topLevel);
        }
        var read = TorchCheckpointReader.ReadStateDict(path);

        Assert.Equal(written.Names, read.Names);
        foreach (var name in written.Names)
        {
            Assert.Equal(written[name].Shape, read[name].Shape);
            Assert.Equal(written[name].Data, read[name].Data);
        }
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Written_zip_stores_entries_uncompressed_on_64_byte_boundaries_with_valid_crcs()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("tiny.pth");
        TorchCheckpointWriter.WriteZip(path, new Dictionary<string, WeightSet> { ["params"] = TinyWeights(1) });

        var bytes = File.ReadAllBytes(path);
        var names = new List<string>();
        int offset = 0;
        while (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)) == 0x04034b50)
        {
            int method = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 8));
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 14));
            int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 18));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 26));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 28));
            string name = System.Text.Encoding.UTF8.GetString(bytes, offset + 30, nameLength);
            int dataStart = offset + 30 + nameLength + extraLength;
            Assert.Equal(0, method);
            Assert.Equal(0, dataStart % 64);
            Assert.Equal(IndependentCrc32(bytes.AsSpan(dataStart, size)), crc);
            names.Add(name);
            offset = dataStart + size;
        }
        var weights = TinyWeights(1);
        Assert.Equal(weights.Count + 3, names.Count);
        Assert.Equal("archive/data.pkl", names[0]);
        Assert.Equal("archive/byteorder", names[1]);
        Assert.Equal("archive/data/0", names[2]);
        Assert.Equal("archive/version", names[^1]);
        // And the BCL's zip reader agrees with the central directory.
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        Assert.Equal(names, zip.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void Params_ema_is_preferred_when_both_exist_and_params_is_used_without_it()
    {
        using var dir = new TemporaryDirectory();
        var ema = TinyWeights(1);
        var raw = TinyWeights(2);
        string both = dir.File("both.pth");
        string onlyParams = dir.File("params.pth");
        TorchCheckpointWriter.WriteZip(both, new Dictionary<string, WeightSet> { ["params"] = raw, ["params_ema"] = ema });
        TorchCheckpointWriter.WriteZip(onlyParams, new Dictionary<string, WeightSet> { ["params"] = raw });

        string probe = ema.Names[0];
        Assert.Equal(ema[probe].Data, TorchCheckpointReader.ReadStateDict(both)[probe].Data);
        Assert.Equal(raw[probe].Data, TorchCheckpointReader.ReadStateDict(onlyParams)[probe].Data);
        Assert.Equal(raw[probe].Data, TorchCheckpointReader.ReadStateDict(both, ["params"])[probe].Data);
        Assert.NotEqual(ema[probe].Data, raw[probe].Data);
    }

    [Fact]
    public void A_plain_state_dict_at_the_top_level_is_read_as_is()
    {
        using var dir = new TemporaryDirectory();
        var weights = TinyWeights(3);
        string path = dir.File("plain.pth");
        TorchCheckpointWriter.WriteZip(path, weights);

        var read = TorchCheckpointReader.ReadStateDict(path);

        Assert.Equal(weights.Names, read.Names);
        Assert.Equal(weights[weights.Names[^1]].Data, read[weights.Names[^1]].Data);
    }

    [Fact]
    public void A_dict_without_a_state_dict_names_its_top_level_keys()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("training.pth");
        var root = new List<KeyValuePair<string, object?>>
        {
            new("net_g", TorchCheckpointWriter.ToRecords(TinyWeights(1))),
            new("iter", 5000L),
        };
        TorchCheckpointWriter.WriteZip(path, root);

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("'params_ema'", error.Message);
        Assert.Contains("'net_g', 'iter'", error.Message);
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void Strided_views_offsets_shared_storages_and_other_dtypes_become_dense_float32(string format)
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("views.pth");
        float[] shared = [0, 1, 2, 3, 4, 5, 6, 7];
        var records = new List<TorchTensorRecord>
        {
            // The transpose of the 2×3 matrix [[0,1,2],[3,4,5]]: shape (3, 2), stride (1, 3).
            new("transposed", shared, 0, [3, 2], [1, 3]),
            // Elements 5..7 of the same storage, as a slice view would store them.
            new("slice", shared, 5, [3], [1]),
            // Every other element, starting at 1: stride 2.
            new("strided", shared, 1, [4], [2]),
            new("half", new Half[] { (Half)0.5f, (Half)(-2f), Half.MaxValue }, 0, [3], [1]),
            new("double", new[] { 1.0 / 3.0, -1e-3 }, 0, [2, 1], [1, 1]),
            new("num_batches_tracked", new long[] { 42 }, 0, [], []),
            new("scalar", new[] { 9.5f }, 0, [], []),
        };
        Write(format, path, records);

        var read = TorchCheckpointReader.ReadStateDict(path);

        Assert.Equal(["transposed", "slice", "strided", "half", "double", "scalar"], read.Names);
        Assert.Equal([3, 2], read["transposed"].Shape);
        Assert.Equal([0f, 3, 1, 4, 2, 5], read["transposed"].Data);
        Assert.Equal([5f, 6, 7], read["slice"].Data);
        Assert.Equal([1f, 3, 5, 7], read["strided"].Data);
        Assert.Equal([0.5f, -2f, 65504f], read["half"].Data);
        Assert.Equal([(float)(1.0 / 3.0), (float)-1e-3], read["double"].Data);
        Assert.Empty(read["scalar"].Shape);
        Assert.Equal([9.5f], read["scalar"].Data);
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void A_view_reaching_past_its_storage_is_refused_with_the_numbers(string format)
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("overrun.pth");
        Write(format, path, new List<TorchTensorRecord> { new("w", new float[4], 2, [3], [1]) });

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("'w'", error.Message);
        Assert.Contains("reaches element 4", error.Message);
        Assert.Contains("4 elements", error.Message);
    }

    [Fact]
    public void A_file_that_is_no_checkpoint_is_refused_naming_its_first_bytes()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("text.pth");
        File.WriteAllText(path, "hello");

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("68656C6C", error.Message);
    }

    [Fact]
    public void A_storage_entry_shorter_than_its_tensor_is_refused()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("short.pth");
        TorchCheckpointWriter.WriteZip(path, (object)new List<TorchTensorRecord> { TorchTensorRecord.Contiguous("w", new float[16], [16]) });
        // Rewrite the zip with the storage cut to half its bytes, keeping the pickle that promises 16 floats.
        var entries = ReadEntries(path);
        entries["archive/data/0"] = entries["archive/data/0"][..32];
        WriteEntries(path, entries);

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("archive/data/0", error.Message);
        Assert.Contains("32 bytes", error.Message);
        Assert.Contains("64 bytes", error.Message);
    }

    [Fact]
    public void The_archive_prefix_is_discovered_from_the_entry_names()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("renamed.pth");
        TorchCheckpointWriter.WriteZip(path, (object)new List<TorchTensorRecord> { TorchTensorRecord.Contiguous("w", [1f, 2f], [2]) });
        var entries = ReadEntries(path).ToDictionary(kv => kv.Key.Replace("archive/", "codeformer/"), kv => kv.Value);
        WriteEntries(path, entries);

        Assert.Equal([1f, 2f], TorchCheckpointReader.ReadStateDict(path)["w"].Data);
    }

    private static void Write(string format, string path, object root)
    {
        if (format == "zip")
        {
            TorchCheckpointWriter.WriteZip(path, root);
        }
        else
        {
            TorchCheckpointWriter.WriteLegacy(path, root);
        }
    }

    internal static Dictionary<string, byte[]> ReadEntries(string path)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var s = e.Open();
            using var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        });
    }

    internal static void WriteEntries(string path, IReadOnlyDictionary<string, byte[]> entries)
    {
        using var file = new FileStream(path, FileMode.Create);
        var zip = new StoredZipWriter(file);
        foreach (var (name, data) in entries)
        {
            zip.AddEntry(name, data);
        }
        zip.Finish();
    }

    private static uint IndependentCrc32(ReadOnlySpan<byte> data)
    {
        // Bitwise CRC-32, deliberately not the table-driven writer's code.
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
            }
        }
        return ~crc;
    }
}
