using System.Buffers.Binary;
using CodeFormer.Imaging;
using CodeFormer.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using static CodeFormer.Imaging.Tests.CraftedFiles;

namespace CodeFormer.Imaging.Tests;

/// <summary>
/// One test per class of hostile or careless input found when the decoder was attacked: each builds its own file and
/// asserts the refusal rule (and that the message names it in words), or the restored result.
/// </summary>
public sealed class HostileImageTests
{
    private readonly ImageDecoder _decoder = new();

    private ImageRejectedException Refused(byte[] file, ImageLimits? limits = null) =>
        Assert.Throws<ImageRejectedException>(() => _decoder.Decode(file, limits));

    private static byte[] NoisyJpeg(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        var random = new Random(7);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = new Rgb24((byte)random.Next(256), (byte)(x * 2), (byte)(y * 2));
            }
        }
        return EncodedImages.Encode(image, new JpegEncoder { Quality = 90 });
    }

    // ------------------------------------------------------------ truncated data inside a well-formed container

    [Fact]
    public void Png_whose_zlib_stream_ends_early_inside_a_complete_idat_is_truncated()
    {
        var compressed = Zlib(RgbRows(64, 64));
        var png = Png(Ihdr(64, 64), Chunk("IDAT", compressed.AsSpan(0, compressed.Length / 2)), Chunk("IEND", []));

        var error = Refused(png);

        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
        Assert.Contains("PNG is truncated", error.Message);
    }

    [Fact]
    public void Png_idat_holding_one_row_of_a_1600x1200_image_is_truncated()
    {
        var oneRow = Zlib(RgbRows(1600, 1));
        var png = Png(Ihdr(1600, 1200), Chunk("IDAT", oneRow), Chunk("IEND", []));

        Assert.Equal(ImageRejectionRule.Truncated, Refused(png).Rule);
    }

    [Fact]
    public void Sixteen_bit_png_with_missing_rows_is_truncated_too()
    {
        var rows = new byte[2 * (1 + 6 * 32)];
        var png = Png(Ihdr(32, 32, bitDepth: 16), Chunk("IDAT", Zlib(rows)), Chunk("IEND", []));

        var error = Refused(png);

        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
        Assert.Contains("holds 386 of the 6176 bytes", error.Message);
    }

    [Fact]
    public void Jpeg_scan_cut_short_then_closed_with_eoi_is_truncated()
    {
        var jpeg = NoisyJpeg(128, 128);
        var (scanStart, end) = JpegScan(jpeg);
        var cut = (byte[])[.. jpeg[..(scanStart + (end - scanStart) / 2)], 0xFF, 0xD9];

        var error = Refused(cut);

        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
        Assert.Matches(@"stops after \d+ of 64 blocks", error.Message);
        // The whole file decodes: the block count is not fooled by stuffed bytes or padding.
        Assert.Equal(128, _decoder.Decode(jpeg).Image.Width);
    }

    [Fact]
    public void Jpeg_whose_frame_header_claims_1600x1200_over_data_for_128x128_is_truncated()
    {
        var jpeg = NoisyJpeg(128, 128);
        var frame = JpegFrameHeader(jpeg);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(frame + 1), 1200);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(frame + 3), 1600);

        var error = Refused(jpeg);

        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
        Assert.Contains("of 7500 blocks", error.Message);
    }

    [Fact]
    public void Jpeg_without_quantization_table_is_refused_by_name()
    {
        var jpeg = JpegWithout(NoisyJpeg(32, 32), 0xDB);

        var error = Refused(jpeg);

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains("quantization table 0, which the file never defines", error.Message);
    }

    [Fact]
    public void Scan_header_naming_impossible_huffman_tables_is_refused()
    {
        // Found by the fuzzing bench (a length edit): the block counter indexed its tables with the selector byte.
        var jpeg = NoisyJpeg(16, 16);
        var (scanStart, _) = JpegScan(jpeg);
        // The scan header ends Ns, (Cs, Td/Ta)×3, Ss, Se, Ah/Al: the first component's selectors are 8 bytes before its end.
        var selectors = scanStart - 8;
        jpeg[selectors] = 0xFF;

        var error = Refused(jpeg);

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains("Huffman tables 0xFF", error.Message);
    }

    [Theory]
    [InlineData(WebpFileFormatType.Lossy)]
    [InlineData(WebpFileFormatType.Lossless)]
    public void Webp_whose_frame_header_claims_1600x1200_over_data_for_128x128_is_refused(WebpFileFormatType kind)
    {
        using var image = EncodedImages.Gradient(128, 128);
        var webp = EncodedImages.Encode(image, new WebpEncoder { FileFormat = kind });
        if (kind == WebpFileFormatType.Lossy)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(webp.AsSpan(26), 1600);
            BinaryPrimitives.WriteUInt16LittleEndian(webp.AsSpan(28), 1200);
        }
        else
        {
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(webp.AsSpan(21));
            bits = (bits & ~0x0FFFFFFFu) | 1599u | (1199u << 14);
            BinaryPrimitives.WriteUInt32LittleEndian(webp.AsSpan(21), bits);
        }

        var error = Refused(webp);

        Assert.True(error.Rule is ImageRejectionRule.Truncated or ImageRejectionRule.DamagedData, error.Message);
        Assert.Contains("WebP", error.Message);
    }

    [Fact]
    public void Vp8l_bitstream_cut_in_half_with_consistent_riff_sizes_is_truncated()
    {
        using var image = EncodedImages.Gradient(128, 128);
        var webp = EncodedImages.Encode(image, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless });
        var (fourCc, data) = WebpChunks(webp).Single();
        Assert.Equal("VP8L", fourCc);

        var cut = WebpFromChunks(("VP8L", data[..(data.Length / 2)]));

        Assert.Null(ContainerIntegrity.FindStructuralProblem(ImageFileFormat.Webp, cut));
        var error = Refused(cut);
        Assert.Equal(ImageRejectionRule.DamagedData, error.Rule);
        Assert.Contains("damaged or cut short", error.Message);
    }

    // ------------------------------------------------------------ one authoritative header

    [Fact]
    public void Second_ihdr_after_the_image_data_is_refused_without_allocating_the_first()
    {
        var idat = Chunk("IDAT", Zlib(RgbRows(64, 64)));
        var bypass = Png(Ihdr(16384, 16384), idat, Ihdr(64, 64), Chunk("IEND", []));
        var lifted = new ImageLimits { MaxPixels = 300_000_000 };
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Refused(bypass, lifted);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains("second IHDR", error.Message);
        Assert.True(allocated < 2_000_000, $"refusing it allocated {allocated} bytes");
        // With the default limits the first (authoritative) IHDR is already over the pixel limit.
        Assert.Equal(ImageRejectionRule.MaxPixels, Refused(bypass).Rule);
    }

    [Fact]
    public void Second_jpeg_frame_header_and_contradicting_webp_canvas_are_refused()
    {
        var jpeg = NoisyJpeg(16, 16);
        var frame = JpegFrameHeader(jpeg) - 4;
        var sofLength = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(frame + 2));
        var doubled = (byte[])[.. jpeg[..(frame + 2 + sofLength)], .. jpeg[frame..(frame + 2 + sofLength)], .. jpeg[(frame + 2 + sofLength)..]];
        Assert.Equal(ImageRejectionRule.MalformedHeader, Refused(doubled).Rule);

        using var image = EncodedImages.Gradient(32, 32);
        var vp8L = WebpChunks(EncodedImages.Encode(image, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless })).Single();
        var vp8X = new byte[10];
        vp8X[4] = 4095 & 0xFF; // canvas 4096×4096 minus one, as stored
        vp8X[5] = 4095 >> 8;
        vp8X[7] = 4095 & 0xFF;
        vp8X[8] = 4095 >> 8;
        var error = Refused(WebpFromChunks(("VP8X", vp8X), vp8L));
        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains("canvas is 4096×4096 but its image is 32×32", error.Message);
    }

    [Fact]
    public void Damaged_png_chunk_checksum_is_refused()
    {
        var png = EncodedImages.GradientPng(8, 8);
        png[^20] ^= 0x40; // inside the last IDAT's data

        var error = Refused(png);

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains("CRC checksum does not match", error.Message);
    }

    // ------------------------------------------------------------ animation

    [Fact]
    public void Apng_and_animated_webp_are_refused_as_animations()
    {
        var chunks = PngChunks(EncodedImages.GradientPng(8, 8));
        chunks.Insert(1, ("acTL", new byte[] { 0, 0, 0, 2, 0, 0, 0, 0 }));
        var apng = PngFromChunks(chunks);
        Assert.Equal(ImageRejectionRule.Animated, Refused(apng).Rule);

        var vp8X = new byte[10];
        vp8X[0] = 0x02; // animation flag
        vp8X[4] = 7;
        vp8X[7] = 7;
        var animated = WebpFromChunks(("VP8X", vp8X), ("ANIM", new byte[6]), ("ANMF", new byte[16]));
        var error = Refused(animated);
        Assert.Equal(ImageRejectionRule.Animated, error.Rule);
        Assert.Contains("only still images", error.Message);
    }

    // ------------------------------------------------------------ metadata decompression bombs

    [Theory]
    [InlineData("zTXt")]
    [InlineData("iTXt")]
    [InlineData("iCCP")]
    public void Compressed_metadata_bomb_is_refused_after_a_bounded_inflation(string type)
    {
        var bomb = Zlib(new byte[64 * 1024 * 1024]); // 64 MiB of zeros in about 64 KB
        byte[] prefix = type switch
        {
            "iTXt" => [.. "Comment"u8, 0, 1, 0, 0, 0],
            _ => [.. "Comment"u8, 0, 0],
        };
        var png = Png(Ihdr(8, 8), Chunk(type, [.. prefix, .. bomb]), Chunk("IDAT", Zlib(RgbRows(8, 8))), Chunk("IEND", []));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = Refused(png);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(ImageRejectionRule.MetadataBomb, error.Rule);
        Assert.Contains($"more than {ImageLimits.Default.MaxMetadataBytes} bytes", error.Message);
        Assert.True(allocated < 4_000_000, $"refusing the bomb allocated {allocated} bytes");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"refusing the bomb took {clock.Elapsed}");
    }

    [Fact]
    public void Small_compressed_text_is_accepted()
    {
        var png = Png(Ihdr(8, 8), Chunk("zTXt", [.. "Comment"u8, 0, 0, .. Zlib("hello"u8.ToArray())]), Chunk("IDAT", Zlib(RgbRows(8, 8))), Chunk("IEND", []));

        Assert.Equal(8, _decoder.Decode(png).Image.Width);
    }

    // ------------------------------------------------------------ good photos that were refused

    public static TheoryData<string, byte[]> CorruptExif => new()
    {
        { "absurd entry count", Tiff(65535, new byte[12]) },
        // IFD0 with one entry whose next-IFD pointer loops back to IFD0, plus an EXIF sub-IFD pointer to itself.
        { "looping IFD pointers", Tiff(1, [0x69, 0x87, 4, 0, 1, 0, 0, 0, 8, 0, 0, 0, 8, 0, 0, 0]) },
        { "directory outside the block", [.. "II*\0"u8, 0xFF, 0xFF, 0, 0] },
        { "orientation 9", Tiff(1, [0x12, 0x01, 3, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]) },
        { "no byte order", [.. "XX*\0"u8, 8, 0, 0, 0, 0, 0] },
    };

    [Theory]
    [MemberData(nameof(CorruptExif))]
    public void Corrupt_exif_is_a_warning_and_the_photo_is_processed_as_stored(string what, byte[] tiff)
    {
        var jpeg = JpegWithExif(NoisyJpeg(40, 20), tiff);

        var decoded = _decoder.Decode(jpeg);

        Assert.Equal((40, 20), (decoded.Image.Width, decoded.Image.Height));
        Assert.Equal(1, decoded.Header.ExifOrientation);
        if (what != "looping IFD pointers")
        {
            Assert.Contains(decoded.Header.Warnings, w => w.Contains("EXIF metadata is damaged") && w.Contains("as stored"));
        }
    }

    [Fact]
    public void Random_exif_blocks_never_refuse_a_valid_photo()
    {
        var photo = NoisyJpeg(24, 16);
        var random = new Random(2026);
        for (var i = 0; i < 300; i++)
        {
            var tiff = new byte[random.Next(8, 200)];
            random.NextBytes(tiff);
            (random.Next(2) == 0 ? "II*\0"u8 : "MM\0*"u8).CopyTo(tiff);
            tiff[4] = (byte)random.Next(0, 40);

            var decoded = _decoder.Decode(JpegWithExif(photo, tiff));

            Assert.Equal(24 * 16 * 3, decoded.Image.Pixels.Length);
        }
    }

    [Fact]
    public void Png_with_idat_split_into_one_byte_chunks_or_an_empty_first_idat_decodes()
    {
        var original = EncodedImages.GradientPng(20, 10);
        var expected = _decoder.Decode(original).Image.Pixels;
        var chunks = PngChunks(original);
        var compressed = chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Data).ToArray();
        var others = chunks.Where(c => c.Type is not ("IDAT" or "IEND")).ToList();

        var oneByte = PngFromChunks([.. others, .. compressed.Select(b => ("IDAT", new[] { b })), ("IEND", [])]);
        var emptyFirst = PngFromChunks([.. others, ("IDAT", []), ("IDAT", compressed), ("IEND", [])]);

        Assert.Equal(expected, _decoder.Decode(oneByte).Image.Pixels);
        Assert.Equal(expected, _decoder.Decode(emptyFirst).Image.Pixels);
    }

    /// <summary>16-bit PNGs take their own decoder (SixteenBitPngDecoder), which must join IDAT chunks as libpng does.</summary>
    [Fact]
    public void Sixteen_bit_png_with_idat_split_into_one_byte_chunks_or_an_empty_first_idat_decodes()
    {
        var image = new RgbImage(20, 10);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = i * 0.83f % 255f; // fractions: the 16-bit levels between 8-bit ones
        }
        var original = new ImageEncoder().Encode(image, ImageFileFormat.Png, pngBitDepth: 16);
        var expected = _decoder.Decode(original);
        Assert.Equal(16, expected.Header.BitDepth);
        var chunks = PngChunks(original);
        var compressed = chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Data).ToArray();
        var others = chunks.Where(c => c.Type is not ("IDAT" or "IEND")).ToList();

        var oneByte = PngFromChunks([.. others, .. compressed.Select(b => ("IDAT", new[] { b })), ("IEND", [])]);
        var emptyFirst = PngFromChunks([.. others, ("IDAT", []), ("IDAT", compressed), ("IEND", [])]);

        Assert.Equal(expected.Image.Pixels, _decoder.Decode(oneByte).Image.Pixels);
        Assert.Equal(expected.Image.Pixels, _decoder.Decode(emptyFirst).Image.Pixels);
        Assert.Equal(16, _decoder.Decode(oneByte).Header.BitDepth);
    }

    // ------------------------------------------------------------ output limits, unbounded reads, aspect ratio

    [Fact]
    public void Webp_output_wider_than_16383_px_is_refused_before_encoding()
    {
        var wide = new RgbImage(16800, 1);

        var error = Assert.Throws<ImageRejectedException>(() => new ImageEncoder().Encode(wide, ImageFileFormat.Webp));

        Assert.Equal(ImageRejectionRule.OutputTooLarge, error.Rule);
        Assert.Contains("16800×1", error.Message);
        Assert.Contains("at most 16383 px", error.Message);
        Assert.False(OutputFormat.CanHold(ImageFileFormat.Webp, 16800, 1));
        Assert.True(OutputFormat.CanHold(ImageFileFormat.Png, 16800, 1));
    }

    [Fact]
    public void Symlink_to_dev_zero_is_refused_by_the_capped_read()
    {
        using var directory = new TemporaryDirectory();
        var link = Path.Combine(directory.Path, "photo.jpg");
        File.CreateSymbolicLink(link, "/dev/zero");
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<ImageRejectedException>(() => BoundedRead.ReadFile(link, 1_000_000));
        using var stream = File.OpenRead(link);
        var fromStream = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(stream, new ImageLimits { MaxBytes = 1_000_000 }));

        Assert.Equal(ImageRejectionRule.MaxBytes, error.Rule);
        Assert.Equal(ImageRejectionRule.MaxBytes, fromStream.Rule);
        Assert.Contains("larger than the limit of 1000000 bytes", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 12_000_000);
    }

    [Fact]
    public void Extreme_aspect_ratio_is_refused_from_the_header()
    {
        var strip = Png(Ihdr(1000, 1), Chunk("IDAT", Zlib(RgbRows(1000, 1))), Chunk("IEND", []));

        var error = Refused(strip);

        Assert.Equal(ImageRejectionRule.AspectRatio, error.Rule);
        Assert.Contains("1000×1", error.Message);
        Assert.Equal(1000, _decoder.Decode(strip, new ImageLimits { MaxAspectRatio = 1000 }).Image.Width);
    }

    // ------------------------------------------------------------ streaming inspection of uploads

    [Fact]
    public async Task InspectAsync_walks_a_large_upload_with_bounded_memory()
    {
        // 40 MB: a private ancillary chunk of 40 MB between the header and the pixels.
        var padding = Chunk("zzPd", new byte[40 * 1024 * 1024]);
        var png = Png(Ihdr(64, 48), padding, Chunk("IDAT", Zlib(RgbRows(64, 48))), Chunk("IEND", []));
        using var upload = new NonSeekableStream(png);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var header = await _decoder.InspectAsync(upload);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal((64, 48), (header.Width, header.Height));
        Assert.True(allocated < 1_000_000, $"inspecting a {png.Length} byte upload allocated {allocated} bytes");
    }

    [Fact]
    public async Task InspectAsync_refuses_what_decode_refuses_from_the_structure()
    {
        var idat = Chunk("IDAT", Zlib(RgbRows(8, 8)));
        var cases = new (byte[] File, ImageRejectionRule Rule)[]
        {
            (Png(Ihdr(8, 8), idat, Ihdr(4, 4), Chunk("IEND", [])), ImageRejectionRule.MalformedHeader),
            (Png(Ihdr(8, 8), Chunk("acTL", new byte[8]), idat, Chunk("IEND", [])), ImageRejectionRule.Animated),
            (Png(Ihdr(8, 8), idat), ImageRejectionRule.Truncated),
            (Png(Ihdr(8, 8), Chunk("zzPd", new byte[60_000_000]), idat, Chunk("IEND", [])), ImageRejectionRule.MaxBytes),
        };
        foreach (var (file, rule) in cases)
        {
            var error = await Assert.ThrowsAsync<ImageRejectedException>(() => _decoder.InspectAsync(new NonSeekableStream(file)));
            Assert.Equal(rule, error.Rule);
        }
    }

    // ------------------------------------------------------------ numerics

    /// <summary>
    /// SkiaSharp decodes JPEG with libjpeg-turbo, as OpenCV (the reference pipeline) does. Expected values from
    /// libjpeg-turbo 2.1.5's djpeg (default settings) on the same file; ImageSharp 2.1 differed by up to 60 levels.
    /// </summary>
    [AssetFact("images/grace_hopper_517x606.jpg")]
    public void Jpeg_decodes_as_libjpeg_turbo_does()
    {
        var decoded = _decoder.Decode(File.ReadAllBytes(TestAssets.PathOf("images/grace_hopper_517x606.jpg")));

        var bytes = decoded.Image.Pixels.Select(v => (byte)v).ToArray();
        Assert.Equal("c648586c262059324dce20df429ed7713a1352e4b513cc7f13f3079e8312e08e",
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        Assert.Equal(new[] { 77f, 117f, 187f }, decoded.Image.Pixels.AsSpan((77 * 517 + 401) * 3, 3).ToArray());
    }

    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data, writable: false);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
