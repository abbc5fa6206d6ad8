using System.IO.Compression;
using System.Text;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Testing;

namespace CodeFormer.Network.Tests.Checkpoints;

/// <summary>
/// Pickles that attack memory or the unpickler's arithmetic without a single tensor: each is refused with a
/// <see cref="CheckpointFormatException"/> naming the limit, quickly and with bounded memory.
/// </summary>
public sealed class PickleResourceLimitTests
{
    [Theory]
    [InlineData("Np99999999999999999999999\n.", "memo index")] // PUT with an index wider than 64 bits (was InvalidCastException)
    [InlineData("Np0\ng01\n.", "memo entry 1 is read before")] // GET "01" parsed as a bool (was InvalidCastException)
    public void Text_memo_index_that_is_not_a_64_bit_integer_is_a_format_error(string opcodes, string expected)
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Load(Pickle("\x80\x02", opcodes)));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Text_memo_index_01_is_index_1_as_in_python()
    {
        Assert.Null(Load(Pickle("\x80\x02", "Np01\ng1\n0.")));
    }

    [Theory]
    [InlineData((byte)'2')]  // DUP: one more reference on the stack per byte
    [InlineData((byte)0x94)] // MEMOIZE: one more memo entry per byte
    [InlineData((byte)']')]  // EMPTY_LIST: one more object per byte
    public void Deflated_pickle_of_millions_of_one_byte_opcodes_is_refused_with_bounded_memory(byte opcode)
    {
        // 6 M one-byte opcodes deflate to a few KB; before the opcode limit 50 M of them built gigabytes of objects.
        using var dir = new TemporaryDirectory();
        var body = new byte[6_000_000];
        Array.Fill(body, opcode);
        var path = WriteZip(dir, [0x80, 0x04, (byte)'(', (byte)'N', .. body, (byte)'l', (byte)'.']);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("opcodes", error.Message);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.True(allocated < 400L << 20, $"allocated {allocated >> 20} MiB");
    }

    [Fact]
    public void Text_field_longer_than_any_name_is_refused_before_it_is_decoded()
    {
        var text = new string('a', PickleUnpickler.MaxFieldBytes + 1);
        var bytes = Pickle("\x80\x02X", Encoding.Latin1.GetString(BitConverter.GetBytes(text.Length)), text, ".");

        var error = Assert.Throws<CheckpointFormatException>(() => Load(bytes));

        Assert.Contains($"a field of {text.Length} bytes", error.Message);
    }

    [Fact]
    public void Integer_wider_than_any_shape_is_refused()
    {
        // LONG4 of 100,000 bytes: BigInteger conversion of 100 MB took tens of seconds.
        var bytes = Pickle("\x80\x02\x8b", Encoding.Latin1.GetString(BitConverter.GetBytes(100_000)), new string('\x01', 100_000), ".");

        var error = Assert.Throws<CheckpointFormatException>(() => Load(bytes));

        Assert.Contains("integer of 100000 bytes", error.Message);
    }

    [Fact]
    public void Messages_describe_file_values_without_dotnet_type_names_or_their_full_text()
    {
        // A dict keyed by a list, and a 255-byte integer: the messages once printed "System.Collections.Generic.List`1[...]"
        // and all 600 digits.
        using var dir = new TemporaryDirectory();
        var listKey = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(WriteZip(dir, Pickle("\x80\x02}]Ns."))));
        var wide = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(
            WriteZip(dir, Pickle("\x80\x02\x8a\x30", new string('\x7f', 0x30), "."))));

        Assert.DoesNotContain("System.", listKey.Message);
        Assert.Contains("a list of 0", listKey.Message);
        Assert.Contains("an integer of 48 bytes", wide.Message);
    }

    private static object? Load(byte[] bytes) =>
        new PickleUnpickler(new MemoryStream(bytes), TorchPickleGlobals.Resolve, id => id).Load();

    private static byte[] Pickle(params string[] parts) => Encoding.Latin1.GetBytes(string.Concat(parts));

    /// <summary>A torch-style zip whose data.pkl is deflated, as zip tools may store it.</summary>
    private static string WriteZip(TemporaryDirectory dir, byte[] pickle)
    {
        var path = dir.File($"crafted-{Guid.NewGuid():N}.pth");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.Optimal).Open())
        {
            entry.Write(pickle);
        }
        return path;
    }
}
