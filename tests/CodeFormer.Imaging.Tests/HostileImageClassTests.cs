using CodeFormer.Imaging;
using static CodeFormer.Imaging.Tests.CraftedFiles;

namespace CodeFormer.Imaging.Tests;

/// <summary>
/// Classes of hostile input found by a second round of attacks (a generated corpus run through Decode, each file in a
/// child process): every test builds its own file and asserts the rule, the words, or the correct result.
/// </summary>
public sealed class HostileImageClassTests
{
    private readonly ImageDecoder _decoder = new();

    private ImageRejectedException Refused(byte[] file) => Assert.Throws<ImageRejectedException>(() => _decoder.Decode(file));

    /// <summary>A zlib stream with the FDICT flag: CMF 0x78, FLG 0xBB (check bits valid), then a dictionary id.</summary>
    private static byte[] WithPresetDictionaryFlag(byte[] zlib) => [0x78, 0xBB, 0, 0, 0, 1, .. zlib[2..]];

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Png_image_data_asking_for_a_preset_zlib_dictionary_is_damaged_data_not_an_internal_error(byte bitDepth)
    {
        // .NET's inflater throws ZLibException (not InvalidDataException) on FDICT: it escaped as "The underlying
        // compression routine returned an unexpected error code".
        var rows = RgbRows(16, 8);
        if (bitDepth == 16)
        {
            rows = [.. Enumerable.Range(0, 8).SelectMany(y => new byte[] { 0 }.Concat(new byte[16 * 6]))];
        }
        var file = Png(Ihdr(16, 8, bitDepth), Chunk("IDAT", WithPresetDictionaryFlag(Zlib(rows))), Chunk("IEND", []));

        var error = Refused(file);

        Assert.Equal(ImageRejectionRule.DamagedData, error.Rule);
        Assert.Contains("preset zlib dictionary", error.Message);
    }

    [Theory]
    [InlineData("zTXt")]
    [InlineData("iCCP")]
    public void Compressed_metadata_asking_for_a_preset_dictionary_is_ignored_like_other_damaged_metadata(string type)
    {
        byte[] metadata = [.. "key"u8, 0, 0, .. WithPresetDictionaryFlag(Zlib("some text"u8.ToArray()))];
        var file = Png(Ihdr(16, 8), Chunk(type, metadata), Chunk("IDAT", Zlib(RgbRows(16, 8))), Chunk("IEND", []));

        var decoded = _decoder.Decode(file);

        Assert.Equal((16, 8), (decoded.Image.Width, decoded.Image.Height));
        Assert.Equal(7 * 3, decoded.Image.Pixels[3 * 3]); // pixel (3, 0), red = x * 7
    }

    [Theory]
    [InlineData("two", "second palette")]
    [InlineData("len7", "7 bytes, not 1 to 256 colours")]
    [InlineData("len900", "900 bytes, not 1 to 256 colours")]
    public void Malformed_palette_is_a_malformed_header_not_truncated_data(string what, string expected)
    {
        // libpng stops at each of these; Skia called it "incomplete input", so they were refused as Truncated.
        var palette = Chunk("PLTE", new byte[6]);
        var idat = Chunk("IDAT", Zlib(new byte[8 * (1 + 16)]));
        var chunks = what switch
        {
            "two" => new[] { Ihdr(16, 8, 8, 3), palette, palette, idat },
            "len7" => [Ihdr(16, 8, 8, 3), Chunk("PLTE", new byte[7]), idat],
            _ => [Ihdr(16, 8, 8, 3), Chunk("PLTE", new byte[900]), idat],
        };

        var error = Refused(Png([.. chunks, Chunk("IEND", [])]));

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Valid_palette_image_with_transparency_decodes_to_its_colours()
    {
        byte[] palette = [255, 0, 0, 0, 0, 255];
        var rows = Enumerable.Range(0, 8).SelectMany(y => new byte[] { 0 }.Concat(Enumerable.Range(0, 16).Select(x => (byte)(x % 2)))).ToArray();
        var file = Png(Ihdr(16, 8, 8, 3), Chunk("PLTE", palette), Chunk("tRNS", [255, 128]), Chunk("IDAT", Zlib(rows)), Chunk("IEND", []));

        var image = _decoder.Decode(file).Image;

        Assert.Equal([255f, 0f, 0f, 0f, 0f, 255f], image.Pixels[..6]);
        Assert.Equal([255f, 128f], image.Alpha![..2]);
    }

    [Theory]
    [InlineData(8, false)]
    [InlineData(4, false)]
    [InlineData(8, true)]
    public void Palette_index_past_the_palette_is_damaged_data_not_painted_black(byte bitDepth, bool interlaced)
    {
        // A 2-colour palette; one pixel, at (13, 5), names entry 3. libpng paints it black and reports success.
        const int width = 16, height = 8;
        var rowBytes = (width * bitDepth + 7) / 8;
        var rows = new byte[height * (1 + rowBytes)];
        for (var y = 0; y < height; y++)
        {
            rows[y * (1 + rowBytes)] = 2; // filter Up: a zero delta repeats the row above, so unfiltering is exercised
        }
        var file = PaletteImage(bitDepth, interlaced, SetIndex(rows, rowBytes, bitDepth, interlaced, 13, 5, 3));

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(file));

        Assert.Equal(ImageRejectionRule.DamagedData, error.Rule);
        Assert.Contains("pixel (13, 5) uses palette entry 3, but its palette (PLTE) has only 2 colours", error.Message);
    }

    [Fact]
    public void Palette_image_using_only_its_colours_decodes()
    {
        var rows = new byte[8 * (1 + 16)];
        rows[1 + 5] = 1;
        var image = _decoder.Decode(PaletteImage(8, false, rows)).Image;

        Assert.Equal([0f, 0f, 255f], image.Pixels[15..18]); // pixel (5, 0) is entry 1, blue
    }

    private static byte[] PaletteImage(byte bitDepth, bool interlaced, byte[] rows)
    {
        var ihdr = Ihdr(16, 8, bitDepth, 3);
        if (interlaced)
        {
            var data = CraftedFiles.PngChunks(Png(ihdr))[0].Data;
            data[12] = 1;
            ihdr = Chunk("IHDR", data);
        }
        return Png(ihdr, Chunk("PLTE", [255, 0, 0, 0, 0, 255]), Chunk("IDAT", Zlib(rows)), Chunk("IEND", []));
    }

    /// <summary>Sets one pixel's index in filter-Up rows (its delta; the rows below inherit it, so the first row it is on counts).</summary>
    private static byte[] SetIndex(byte[] rows, int rowBytes, int bitDepth, bool interlaced, int x, int y, int index)
    {
        if (interlaced)
        {
            // Adam7 on 16 × 8: (13, 5) is in pass 7 (rows 1, 3, 5, 7; all 16 columns): its 3rd row, column 13. Build
            // that pass's rows after passes 1-6 (all zero, filter 0).
            var before = new[] { (2, 1), (2, 1), (4, 1), (4, 2), (8, 2), (8, 4) } // (width, height) of passes 1-6
                .Sum(p => p.Item2 * (1 + (p.Item1 * bitDepth + 7) / 8));
            var pass7 = new byte[4 * (1 + rowBytes)];
            pass7[2 * (1 + rowBytes) + 1 + x * bitDepth / 8] = (byte)(index << (8 - bitDepth - x * bitDepth % 8));
            return [.. new byte[before], .. pass7];
        }
        rows[y * (1 + rowBytes) + 1 + x * bitDepth / 8] = (byte)(index << (8 - bitDepth - x * bitDepth % 8));
        return rows;
    }

    [Fact]
    public void Jpeg_entropy_data_with_a_code_no_huffman_table_defines_is_damaged_data_not_decoded_grey()
    {
        // 32 one-bits (FF 00 is a stuffed 0xFF byte) in the middle of the scan: the all-ones 16-bit code is reserved, so no
        // table defines it. libjpeg-turbo warns "bad Huffman code", zeroes the rest of the scan and reports success.
        using var image = NoisyImage(96, 64);
        var jpeg = EncodedImages.Encode(image, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 90 });
        var (scanStart, end) = JpegScan(jpeg);
        var middle = (scanStart + end) / 2;
        while (jpeg[middle - 1] == 0xFF)
        {
            middle++; // do not split a stuffed byte
        }
        byte[] ones = [0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00];
        var file = (byte[])jpeg.Clone();
        ones.CopyTo(file, middle);

        var error = Refused(file);

        Assert.Equal(ImageRejectionRule.DamagedData, error.Rule);
        Assert.Contains("a code its Huffman table does not define", error.Message);
        Assert.NotNull(_decoder.Decode(jpeg)); // the untouched file decodes
    }

    private static SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24> NoisyImage(int width, int height)
    {
        var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(width, height);
        var random = new Random(11);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = new SixLabors.ImageSharp.PixelFormats.Rgb24((byte)random.Next(256), (byte)(x * 2), (byte)(y * 3));
            }
        }
        return image;
    }
}
