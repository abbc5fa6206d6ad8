using System.IO.Compression;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Testing;

namespace CodeFormer.Network.Tests.Checkpoints;

/// <summary>
/// Storages and zip entries that lie: what a tensor's pickle claims is checked against what the file holds before the
/// tensor is allocated, and entries or storages described twice are refused (readers disagree about which counts).
/// </summary>
public sealed class HostileStorageTests
{
    [Fact]
    public void View_repeating_a_few_floats_into_gigabytes_is_refused_before_allocation()
    {
        // 40000 × 40000 with stride (0, 0) over 12 floats: 1.6 G elements, 6.4 GB allocated before this was refused.
        using var dir = new TemporaryDirectory();
        var path = WriteZip(dir, ("w", "torch", "FloatStorage", "0", 12, [40000, 40000], [0, 0]), ("0", new byte[48]));
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("1600000000 elements but its storage '0' holds only 12", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < 64L << 20);
    }

    [Fact]
    public void Storage_claiming_more_elements_than_its_entry_holds_is_refused_before_allocation()
    {
        // The pickle says 1.5 G floats; the entry holds 48 bytes. The tensor (6 GB) was allocated, then found short.
        using var dir = new TemporaryDirectory();
        var path = WriteZip(dir, ("w", "torch", "FloatStorage", "0", 1_500_000_000, [1_500_000_000], [1]), ("0", new byte[48]));
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("holds 48 bytes", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < 64L << 20);
    }

    [Fact]
    public void Storage_described_with_two_types_is_refused()
    {
        // Storage '0' as 12 floats for one tensor and 6 doubles for another: the same bytes read two ways.
        using var dir = new TemporaryDirectory();
        var path = WriteZip(dir,
            [("a", "torch", "FloatStorage", "0", 12, [12], [1]), ("b", "torch", "DoubleStorage", "0", 6, [6], [1])],
            ("0", new byte[48]));

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("storage '0' is described both as 12 × torch.FloatStorage and as 6 × torch.DoubleStorage", error.Message);
    }

    [Theory]
    [InlineData("archive/data/0")]
    [InlineData("archive/data.pkl")]
    public void Zip_entry_name_appearing_twice_is_refused(string duplicated)
    {
        using var dir = new TemporaryDirectory();
        var path = WriteZip(dir, ("w", "torch", "FloatStorage", "0", 12, [3, 4], [4, 1]), ("0", new byte[48]));
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var copy = zip.GetEntry(duplicated)!;
            byte[] bytes;
            using (var source = copy.Open())
            using (var buffer = new MemoryStream())
            {
                source.CopyTo(buffer);
                bytes = buffer.ToArray();
            }
            using var target = zip.CreateEntry(duplicated).Open();
            target.Write(bytes);
        }

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains($"'{duplicated}' appears twice", error.Message);
    }

    [Fact]
    public void The_crafted_file_is_read_when_it_tells_the_truth()
    {
        using var dir = new TemporaryDirectory();
        var values = new byte[48];
        BitConverter.GetBytes(2.5f).CopyTo(values, 4);
        var path = WriteZip(dir, ("w", "torch", "FloatStorage", "0", 12, [3, 4], [4, 1]), ("0", values));

        var weights = TorchCheckpointReader.ReadStateDict(path);

        Assert.Equal(2.5f, weights["w"].Data[1]);
    }

    [Fact]
    public void Hundreds_of_views_of_one_large_storage_are_refused_before_re_reading_it_for_each()
    {
        // Each tensor's read verifies the CRC of the whole entry: 300 views of one 32 MB storage inflated 9.6 GB (5 s).
        using var dir = new TemporaryDirectory();
        var path = WriteViews(dir, storageFloats: 4_000_000, views: 100);

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("shares it", error.Message);
        Assert.Contains("more than 4 times over", error.Message);
    }

    [Fact]
    public void A_few_tensors_sharing_one_storage_like_tied_weights_are_read()
    {
        using var dir = new TemporaryDirectory();
        var path = WriteViews(dir, storageFloats: 4_000_000, views: 3);

        var weights = TorchCheckpointReader.ReadStateDict(path);

        Assert.Equal([20f, 21f], weights["t2"].Data[..2]); // view 2 starts at element 20, and element i holds i
    }

    /// <summary>
    /// Tensors t0..t(n-1), 10 floats each, end to end (view i at element 10 i) in one stored storage whose element i holds
    /// i: consecutive views, so no reader can take one view's read as the continuation of the last.
    /// </summary>
    private static string WriteViews(TemporaryDirectory dir, int storageFloats, int views)
    {
        var data = new byte[storageFloats * 4L];
        for (var i = 0; i < 64; i++)
        {
            BitConverter.GetBytes((float)i).CopyTo(data, i * 4);
        }
        return WriteZip(dir,
            [.. Enumerable.Range(0, views).Select(i => ($"t{i}", "torch", "FloatStorage", "0", (long)storageFloats, new long[] { 10 }, new long[] { 1 }, 10L * i))],
            ("0", data));
    }

    private static string WriteZip(TemporaryDirectory dir, (string Name, string Module, string Type, string Key, long Numel, long[] Shape, long[] Stride) tensor, (string Key, byte[] Data) storage) =>
        WriteZip(dir, [tensor], storage);

    private static string WriteZip(TemporaryDirectory dir, (string Name, string Module, string Type, string Key, long Numel, long[] Shape, long[] Stride)[] tensors, (string Key, byte[] Data) storage) =>
        WriteZip(dir, [.. tensors.Select(t => (t.Name, t.Module, t.Type, t.Key, t.Numel, t.Shape, t.Stride, 0L))], storage);

    /// <summary>A torch-style zip whose pickle says exactly what the test wants, true or not.</summary>
    private static string WriteZip(TemporaryDirectory dir, (string Name, string Module, string Type, string Key, long Numel, long[] Shape, long[] Stride, long Offset)[] tensors, (string Key, byte[] Data) storage)
    {
        using var pickle = new MemoryStream();
        var writer = new PickleWriter(pickle);
        writer.Protocol(2);
        writer.Global("collections", "OrderedDict");
        writer.EmptyTuple();
        writer.Reduce();
        writer.Mark();
        foreach (var (name, module, type, key, numel, shape, stride, offset) in tensors)
        {
            writer.String(name);
            writer.Global("torch._utils", "_rebuild_tensor_v2");
            writer.Mark();
            writer.Mark();
            writer.String("storage");
            writer.Global(module, type);
            writer.String(key);
            writer.String("cpu");
            writer.Int(numel);
            writer.Tuple(5);
            writer.PersistentId();
            writer.Int(offset);
            writer.IntTuple(shape);
            writer.IntTuple(stride);
            writer.Bool(false);
            writer.Global("collections", "OrderedDict");
            writer.EmptyTuple();
            writer.Reduce();
            writer.Tuple(6);
            writer.Reduce();
        }
        writer.SetItems();
        writer.Stop();
        var path = dir.File($"crafted-{Guid.NewGuid():N}.pth");
        using var file = File.Create(path);
        var zip = new StoredZipWriter(file);
        zip.AddEntry("archive/data.pkl", pickle.ToArray());
        zip.AddEntry($"archive/data/{storage.Key}", storage.Data);
        zip.Finish();
        return path;
    }
}
