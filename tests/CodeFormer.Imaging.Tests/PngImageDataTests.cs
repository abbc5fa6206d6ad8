using System.Buffers.Binary;
using CodeFormer.Imaging;
using static CodeFormer.Imaging.Tests.CraftedFiles;

namespace CodeFormer.Imaging.Tests;

/// <summary>The one PNG chunk walk and Adam7 geometry the pixel checks share.</summary>
public sealed class PngImageDataTests
{
    [Fact]
    public void Adam7_passes_of_a_10_by_7_image_have_the_sizes_png_gives_them()
    {
        var ihdr = Ihdr(10, 7);
        ihdr[8 + 12] = 1; // interlace method 1
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(21), System.IO.Hashing.Crc32.HashToUInt32(ihdr.AsSpan(4, 17)));
        var png = PngImageData.Read(Png(ihdr, Chunk("IDAT", [1, 2]), Chunk("IDAT", [3]), Chunk("IEND", [])));

        var sizes = png.Passes().Select(p => (p.Width, p.Height)).ToArray();

        Assert.Equal([(2, 1), (1, 1), (3, 1), (2, 2), (5, 2), (5, 4), (10, 3)], sizes);
        // Σ rows × (filter byte + 3 bytes a pixel): 7 + 4 + 10 + 14 + 32 + 64 + 93.
        Assert.Equal(224, png.InflatedBytesNeeded());
        Assert.Equal(2, png.ImageDataChunkCount);
        Assert.Equal([1, 2, 3], png.OpenCompressedImageData().ToArray());
    }

    [Fact]
    public void The_walk_stops_at_iend_and_at_a_chunk_running_past_the_file()
    {
        var file = Png(Ihdr(4, 4), Chunk("IDAT", [9]), Chunk("IEND", []), Chunk("IDAT", [7]));
        var afterEnd = PngImageData.Read(file);
        Assert.Equal(1, afterEnd.ImageDataChunkCount);
        Assert.Equal(file.Length - 13, afterEnd.End);

        var cut = Png(Ihdr(4, 4), Chunk("IDAT", [9]))[..^3];
        Assert.Equal(0, PngImageData.Read(cut).ImageDataChunkCount);
        Assert.Single(PngImageData.Read(cut).Passes());
    }
}
