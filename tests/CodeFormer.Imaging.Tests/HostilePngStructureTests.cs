using CodeFormer.Imaging;
using static CodeFormer.Imaging.Tests.CraftedFiles;

namespace CodeFormer.Imaging.Tests;

/// <summary>
/// PNG structure a decoder may read differently from what the file shows elsewhere: APNG frames in any arrangement
/// (refused as an animation, as WebP animations are: restoring only the default image would silently drop the rest),
/// chunks before IHDR, a missing IEND, and Apple's CgBI variant. Files built here; each refusal names its rule.
/// </summary>
public sealed class HostilePngStructureTests
{
    private readonly ImageDecoder _decoder = new();

    private static byte[] Still() => Png(Ihdr(16, 8), Chunk("IDAT", Zlib(RgbRows(16, 8))), Chunk("IEND", []));

    private static byte[] FrameControl() => new byte[26];

    [Theory]
    [InlineData("acTL before IDAT", "acTL")] // as APNG writers place it
    [InlineData("acTL after IDAT", "acTL")] // where libpng no longer looks for it
    [InlineData("frames without acTL", "fcTL")]
    public void Apng_frames_in_any_arrangement_are_refused_as_an_animation(string arrangement, string named)
    {
        var chunks = PngChunks(Still()); // IHDR, IDAT, IEND
        var actl = ("acTL", new byte[] { 0, 0, 0, 2, 0, 0, 0, 0 });
        if (arrangement == "acTL before IDAT")
        {
            chunks.InsertRange(1, [actl, ("fcTL", FrameControl())]);
        }
        else if (arrangement == "acTL after IDAT")
        {
            chunks.Insert(2, actl);
        }
        else
        {
            chunks.InsertRange(2, [("fcTL", FrameControl()), ("fdAT", [0, 0, 0, 1, .. Zlib(RgbRows(16, 8))])]);
        }

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(PngFromChunks(chunks)));

        Assert.Equal(ImageRejectionRule.Animated, error.Rule);
        Assert.Contains($"APNG {named} chunk", error.Message);
    }

    [Fact]
    public void Chunk_before_ihdr_is_a_malformed_header()
    {
        var chunks = PngChunks(Still());
        chunks.Insert(0, ("tEXt", "Title\0x"u8.ToArray()));

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(PngFromChunks(chunks)));

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains("its first chunk is tEXt, not the IHDR header", error.Message);
    }

    [Fact]
    public void Missing_iend_is_truncated()
    {
        var chunks = PngChunks(Still());
        chunks.RemoveAt(chunks.Count - 1);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(PngFromChunks(chunks)));

        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
        Assert.Contains("before its IEND chunk", error.Message);
    }

    [Fact]
    public void Apple_cgbi_png_is_refused_by_name()
    {
        var chunks = PngChunks(Still());
        chunks.Insert(0, ("CgBI", new byte[] { 0x50, 0x00, 0x20, 0x06 }));

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(PngFromChunks(chunks)));

        Assert.Equal(ImageRejectionRule.UnsupportedFormat, error.Rule);
        Assert.Contains("Apple CgBI PNG", error.Message);
    }

    [Fact]
    public void The_still_png_these_files_are_made_from_decodes()
    {
        Assert.Equal(16, _decoder.Decode(Still()).Image.Width);
    }

    [Theory]
    [InlineData("zTXt")]
    [InlineData("iTXt")]
    [InlineData("iCCP")]
    public void More_compressed_metadata_chunks_than_any_real_file_has_are_refused_before_inflating_them_all(string type)
    {
        // 48 MB of 2 M empty zTXt chunks took 10 CPU seconds in the header walk (an inflater each), 14 s to decode.
        byte[] empty = type == "iTXt" ? [(byte)'a', 0, 1, 0, 0, 0, .. Zlib([])] : [(byte)'a', 0, 0, .. Zlib([])];
        var chunk = Chunk(type, empty);
        var flood = Enumerable.Repeat(chunk, ContainerWalker.MaxCompressedMetadataChunks + 1).ToArray();
        var file = Png([Ihdr(16, 8), .. flood, Chunk("IDAT", Zlib(RgbRows(16, 8))), Chunk("IEND", [])]);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Inspect(file));

        Assert.Equal(ImageRejectionRule.MetadataBomb, error.Rule);
        Assert.Contains($"more than {ContainerWalker.MaxCompressedMetadataChunks} compressed metadata chunks", error.Message);
    }

    [Fact]
    public void A_few_compressed_text_chunks_are_accepted()
    {
        var text = Chunk("zTXt", [(byte)'a', 0, 0, .. Zlib("a caption"u8.ToArray())]);
        var file = Png([Ihdr(16, 8), .. Enumerable.Repeat(text, 20), Chunk("IDAT", Zlib(RgbRows(16, 8))), Chunk("IEND", [])]);

        Assert.Equal(16, _decoder.Decode(file).Image.Width);
    }
}
