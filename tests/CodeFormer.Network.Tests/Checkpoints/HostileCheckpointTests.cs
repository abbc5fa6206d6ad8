using System.Buffers.Binary;
using System.IO.Compression;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;

namespace CodeFormer.Network.Tests.Checkpoints;

/// <summary>
/// Checkpoints crafted the way an attacker (or a broken tool) would: every one is refused with a
/// <see cref="CheckpointFormatException"/> naming the problem, never an unhandled exception, and before large reads.
/// </summary>
public sealed class HostileCheckpointTests
{
    private static WeightSet TinyWeights(ulong seed) =>
        RandomWeights.Create(new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Tiny)), seed);

    private static string WriteState(TemporaryDirectory dir, params TorchTensorRecord[] records)
    {
        string path = dir.File($"crafted-{Guid.NewGuid():N}.pth");
        TorchCheckpointWriter.WriteZip(path, (object)records.ToList());
        return path;
    }

    /// <summary>
    /// A legacy (torch &lt; 1.6) file whose storage id carries view metadata (view_key, offset, size): the writer stores
    /// whole storages (view None), so the test patches the view into the pickle. 16 floats 0..15, tensor shape [8].
    /// </summary>
    private static string WriteLegacyView(TemporaryDirectory dir, long offset, long size)
    {
        string path = dir.File($"legacy-view-{Guid.NewGuid():N}.pth");
        var storage = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        TorchCheckpointWriter.WriteLegacy(path, (object)new List<TorchTensorRecord> { new("w", storage, 0, [8], [1]) });
        var bytes = File.ReadAllBytes(path);
        // ... 'cpu', BININT1 16 (the root's element count), NONE (no view) ...
        byte[] noView = [.. "X\u0003\u0000\u0000\u0000cpu"u8, (byte)'K', 16, (byte)'N'];
        int at = bytes.AsSpan().IndexOf(noView);
        Assert.True(at > 0, "the writer's storage id was not found");
        using var view = new MemoryStream();
        var pickle = new PickleWriter(view);
        pickle.String("view-0");
        pickle.Int(offset);
        pickle.Int(size);
        pickle.Tuple(3);
        int none = at + noView.Length - 1;
        File.WriteAllBytes(path, [.. bytes.AsSpan(0, none), .. view.ToArray(), .. bytes.AsSpan(none + 1)]);
        return path;
    }

    [Fact]
    public void A_legacy_storage_view_is_read_from_its_offset()
    {
        using var dir = new TemporaryDirectory();

        var weights = TorchCheckpointReader.ReadStateDict(WriteLegacyView(dir, offset: 4, size: 8));

        Assert.Equal([4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f], weights["w"].Data);
    }

    [Theory]
    [InlineData(long.MaxValue - 3, 8, "overflows 64-bit arithmetic")] // offset + size wraps negative
    [InlineData(1L << 61, 1L << 61, "overflows 64-bit arithmetic")] // 2^62 elements fit, 2^64 bytes do not
    [InlineData(12, 8, "past the end of its 16 elements")]
    [InlineData(-1, 8, "negative offset or size")]
    public void A_legacy_storage_view_that_overflows_or_overruns_is_refused_where_it_is_read(long offset, long size, string expected)
    {
        using var dir = new TemporaryDirectory();
        var path = WriteLegacyView(dir, offset, size);

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains(expected, error.Message);
        Assert.Contains("view", error.Message);
    }

    [Theory]
    [InlineData(1L << 62, 2)] // (2-1)·2^62 fits, but wraps nothing: past the storage
    [InlineData(1L << 62, 3)] // (3-1)·2^62 = 2^63 overflows
    [InlineData(long.MaxValue, 2)]
    public void Huge_strides_are_refused_not_wrapped(long stride, int size)
    {
        using var dir = new TemporaryDirectory();
        var path = WriteState(dir, new TorchTensorRecord("w", new float[4], 0, [size], [stride]));

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.True(error.Message.Contains("overflows") || error.Message.Contains("past the end of its storage"), error.Message);
    }

    [Fact]
    public void Shape_whose_product_wraps_to_zero_is_refused_where_it_is_read()
    {
        using var dir = new TemporaryDirectory();
        // 65536^4 = 2^64, which wraps to 0 in unchecked 64-bit arithmetic.
        var path = WriteState(dir, new TorchTensorRecord("w", new float[1], 0, [65536, 65536, 65536, 65536], [0, 0, 0, 0]));

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("overflows 64-bit arithmetic", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Tensors_are_read_in_pieces_so_2_GiB_tensors_need_no_single_byte_span(bool float32)
    {
        // A 2 GiB float32 tensor overflowed the one byte view it was read through; reading now goes in pieces (2^28
        // elements by default). The piece size is made small here so the same path runs on 1000 elements.
        using var dir = new TemporaryDirectory();
        var values = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();
        Array storage = float32 ? values : values.Select(v => (Half)v).ToArray();
        var path = WriteState(dir, new TorchTensorRecord("w", storage, 0, [10, 100], [100, 1]));
        using var archive = TorchCheckpointReader.Open(path);
        var reference = (TorchTensorReference)((PickleDict)archive.Root!).Entries[0].Value!;

        var whole = TorchTensorDecoder.Decode("w", reference, archive);
        var pieces = TorchTensorDecoder.Decode("w", reference, archive, pieceElements: 64);

        Assert.Equal(values, whole.Data);
        Assert.Equal(values, pieces.Data);
    }

    [Fact]
    public void Unknown_keys_are_refused_by_name_before_their_data_is_read()
    {
        using var dir = new TemporaryDirectory();
        var records = TorchCheckpointWriter.ToRecords(TinyWeights(3));
        // A 16-float storage viewed as 2^28 elements with stride 0: reading it would allocate 1 GiB.
        records.Add(new TorchTensorRecord("junk.weight", new float[16], 0, [1 << 28], [0]));
        string path = dir.File("junk.pth");
        TorchCheckpointWriter.WriteZip(path, (object)new List<KeyValuePair<string, object?>> { new("params_ema", records) });
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var error = Assert.Throws<InvalidWeightsException>(() => CodeFormerCheckpoint.Load(path, CodeFormerArchitecture.Tiny));

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains("unexpected key 'junk.weight'", error.Message);
        Assert.True(allocated < 64_000_000, $"refusing it allocated {allocated} bytes");
    }

    [Fact]
    public void Flipped_bytes_in_weights_fail_the_zip_crc()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("tiny.pth");
        TorchCheckpointWriter.WriteZip(path, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights(5) });
        var bytes = File.ReadAllBytes(path);
        var (offset, _) = LargestEntryData(bytes);
        bytes[offset + 10] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("is damaged: its CRC-32", error.Message);
    }

    [Fact]
    public void Entry_flagged_encrypted_is_refused()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("tiny.pth");
        TorchCheckpointWriter.WriteZip(path, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights(5) });
        var bytes = File.ReadAllBytes(path);
        for (int i = 0; i + 4 <= bytes.Length; i++)
        {
            uint signature = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i));
            if (signature == 0x04034b50)
            {
                bytes[i + 6] |= 1; // general purpose flag bit 0: encrypted (local header)
            }
            else if (signature == 0x02014b50)
            {
                bytes[i + 8] |= 1; // the same flag in the central directory
            }
        }
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("is encrypted", error.Message);
    }

    [Theory]
    [InlineData("archive/../../etc/passwd")]
    [InlineData("/absolute/data")]
    public void Entry_names_climbing_out_or_absolute_are_refused(string hostileName)
    {
        using var dir = new TemporaryDirectory();
        string valid = dir.File("tiny.pth");
        TorchCheckpointWriter.WriteZip(valid, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights(5) });
        string path = dir.File("hostile.pth");
        using (var source = ZipFile.OpenRead(valid))
        using (var output = File.Create(path))
        {
            var zip = new StoredZipWriter(output);
            foreach (var entry in source.Entries)
            {
                using var data = entry.Open();
                var buffer = new byte[entry.Length];
                data.ReadExactly(buffer);
                zip.AddEntry(entry.FullName, buffer);
            }
            zip.AddEntry(hostileName, "x"u8);
            zip.Finish();
        }

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("absolute or climbs out of the archive", error.Message);
    }

    [Fact]
    public void Duplicated_zip_record_is_a_format_error_not_an_unhandled_exception()
    {
        // Found by the fuzzing bench: ZipArchive reads its central directory lazily and threw InvalidDataException.
        using var dir = new TemporaryDirectory();
        string path = dir.File("tiny.pth");
        TorchCheckpointWriter.WriteZip(path, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights(5) });
        var bytes = File.ReadAllBytes(path);
        int centralDirectory = bytes.Length - 22 - 1;
        while (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(centralDirectory)) != 0x02014b50 || centralDirectory > bytes.Length - 22)
        {
            centralDirectory--;
        }
        // Duplicate the last central directory record: the end record's count no longer matches.
        int recordLength = 46 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(centralDirectory + 28))
            + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(centralDirectory + 30)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(centralDirectory + 32));
        File.WriteAllBytes(path, [.. bytes[..(centralDirectory + recordLength)], .. bytes.AsSpan(centralDirectory, recordLength), .. bytes[(centralDirectory + recordLength)..]]);

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("zip structure is damaged", error.Message);
    }

    /// <summary>Offset and size of the data of the largest stored entry (a weight storage).</summary>
    private static (int Offset, int Size) LargestEntryData(byte[] bytes)
    {
        (int Offset, int Size) best = (0, 0);
        int offset = 0;
        while (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)) == 0x04034b50)
        {
            int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 18));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 26));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 28));
            int data = offset + 30 + nameLength + extraLength;
            if (size > best.Size)
            {
                best = (data, size);
            }
            offset = data + size;
        }
        return best;
    }
}
