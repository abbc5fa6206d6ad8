using CodeFormer.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using static CodeFormer.Imaging.Tests.CraftedFiles;

namespace CodeFormer.Imaging.Tests;

/// <summary>WebP whose VP8X header contradicts its chunks: decoders follow different ones, so the pixels are a guess.</summary>
public sealed class HostileWebpTests
{
    private readonly ImageDecoder _decoder = new();

    /// <summary>A lossy WebP (VP8X, ALPH, VP8) whose left half is fully transparent.</summary>
    private static byte[] HalfTransparentLossyWebp()
    {
        using var image = new Image<Rgba32>(32, 16);
        for (var y = 0; y < 16; y++)
        {
            for (var x = 0; x < 32; x++)
            {
                image[x, y] = new Rgba32((byte)(x * 8), (byte)(y * 16), 90, (byte)(x < 16 ? 0 : 255));
            }
        }
        return EncodedImages.Encode(image, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = 90 });
    }

    [Fact]
    public void Alpha_chunk_under_a_vp8x_header_without_the_alpha_flag_is_refused()
    {
        // Before: SkiaSharp followed the flag and decoded it opaque (alpha 255 everywhere, the transparent half shown in
        // the colours stored under it) while libwebp's own decoder, as OpenCV uses it, keeps the alpha.
        var chunks = WebpChunks(HalfTransparentLossyWebp());
        Assert.Equal(["VP8X", "ALPH", "VP8 "], chunks.Select(c => c.FourCc));
        var vp8X = chunks[0].Data.ToArray();
        vp8X[0] &= unchecked((byte)~0x10);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(WebpFromChunks([("VP8X", vp8X), .. chunks.Skip(1)])));

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains("no alpha, but it has an alpha (ALPH) chunk", error.Message);
    }

    [Fact]
    public void The_same_webp_with_its_alpha_flag_keeps_its_transparency()
    {
        var decoded = _decoder.Decode(HalfTransparentLossyWebp());

        Assert.NotNull(decoded.Image.Alpha);
        Assert.Equal(0f, decoded.Image.Alpha![0]);
        Assert.Equal(255f, decoded.Image.Alpha[31]);
    }
}
