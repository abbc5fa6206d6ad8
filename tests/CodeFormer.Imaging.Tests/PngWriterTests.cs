using CodeFormer.Imaging;
using CodeFormer.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Imaging.Tests;

public sealed class PngWriterTests
{
    [AssetFact("images/solvay_1927_1280x926.png")]
    public void A_photo_is_deflated_with_dynamic_codes_well_below_the_size_of_zlibs_quick_level()
    {
        var photo = new ImageDecoder().Decode(File.ReadAllBytes(TestAssets.PathOf("images/solvay_1927_1280x926.png"))).Image;

        var png = new ImageEncoder().Encode(photo, ImageFileFormat.Png);

        // The same Paeth-filtered rows deflated at level 1 (zlib-ng's static-code "quick" strategy), the writer's old setting.
        var rows = InflatedIdat(png);
        using var quick = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(quick, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(rows);
        }
        Assert.True(png.Length < 0.8 * quick.Length, $"PNG {png.Length} bytes; its rows at level 1: {quick.Length} bytes");
        using var decoded = Image.Load<Rgb24>(png);
        Assert.Equal((photo.Width, photo.Height), (decoded.Width, decoded.Height));
    }

    private static byte[] InflatedIdat(byte[] png)
    {
        using var idat = new MemoryStream();
        for (int p = 8; p < png.Length;)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(p));
            if (png.AsSpan(p + 4, 4).SequenceEqual("IDAT"u8))
            {
                idat.Write(png, p + 8, length);
            }
            p += 12 + length;
        }
        idat.Position = 0;
        using var rows = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionMode.Decompress))
        {
            zlib.CopyTo(rows);
        }
        return rows.ToArray();
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(4, 8)]
    [InlineData(2, 8)]
    [InlineData(6, 8)]
    [InlineData(0, 16)]
    [InlineData(2, 16)]
    [InlineData(6, 16)]
    public void Random_samples_survive_an_independent_decoder_exactly(int colourType, int bitDepth)
    {
        var type = (PngWriter.ColourType)colourType;
        // Noise exercises every branch of the Paeth predictor; odd sizes exercise the first row and first pixel.
        const int width = 37, height = 23;
        int channels = PngWriter.Channels(type);
        var samples = new byte[width * height * channels * bitDepth / 8];
        new Random(11).NextBytes(samples);
        using var png = new MemoryStream();

        PngWriter.Write(png, width, height, type, bitDepth, samples);

        using var decoded = Image.Load<Rgba64>(png.ToArray());
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                var expected = Expected(samples, (y * width + x) * channels, type, bitDepth);
                Assert.Equal(expected, decoded[x, y]);
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 9)]
    [InlineData(9, 1)]
    public void Degenerate_sizes_round_trip(int width, int height)
    {
        var samples = Enumerable.Range(0, width * height * 3).Select(i => (byte)(i * 37)).ToArray();
        using var png = new MemoryStream();

        PngWriter.Write(png, width, height, PngWriter.ColourType.Rgb, 8, samples);

        using var decoded = Image.Load<Rgb24>(png.ToArray());
        for (int i = 0; i < width * height; i++)
        {
            Assert.Equal(new Rgb24(samples[3 * i], samples[3 * i + 1], samples[3 * i + 2]), decoded[i % width, i / width]);
        }
    }

    [Theory]
    [InlineData(1)] // one row per band: every row's Paeth reads the row kept from the band before
    [InlineData(7)]
    public void Rows_written_band_by_band_round_trip_exactly(int rowsPerBand)
    {
        const int width = 29, height = 41;
        var samples = new byte[width * height * 3];
        new Random(5).NextBytes(samples);
        var bandsAsked = new List<(int First, int Count)>();
        using var png = new MemoryStream();

        PngWriter.Write(png, width, height, PngWriter.ColourType.Rgb, 8, (first, count, band) =>
        {
            bandsAsked.Add((first, count));
            samples.AsSpan(first * width * 3, count * width * 3).CopyTo(band.Span);
        }, bandBytes: rowsPerBand * width * 3);

        Assert.Equal((height + rowsPerBand - 1) / rowsPerBand, bandsAsked.Count);
        Assert.Equal(height, bandsAsked.Sum(b => b.Count));
        using var decoded = Image.Load<Rgb24>(png.ToArray());
        for (int i = 0; i < width * height; i++)
        {
            Assert.Equal(new Rgb24(samples[3 * i], samples[3 * i + 1], samples[3 * i + 2]), decoded[i % width, i / width]);
        }
    }

    [Fact]
    public void Large_compressed_data_is_cut_into_several_idat_chunks()
    {
        // Noise does not compress: 1.5 MB of samples give more than one 1 MiB IDAT chunk.
        const int width = 1000, height = 500;
        var samples = new byte[width * height * 3];
        new Random(3).NextBytes(samples);
        using var png = new MemoryStream();

        PngWriter.Write(png, width, height, PngWriter.ColourType.Rgb, 8, samples);

        var bytes = png.ToArray();
        int idatChunks = 0;
        for (int offset = 8; offset < bytes.Length;)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
            idatChunks += bytes.AsSpan(offset + 4, 4).SequenceEqual("IDAT"u8) ? 1 : 0;
            Assert.True(length <= PngWriter.IdatChunkBytes);
            offset += 12 + length;
        }
        Assert.True(idatChunks >= 2, $"{idatChunks} IDAT chunk(s)");
        using var decoded = Image.Load<Rgb24>(bytes);
        Assert.Equal(new Rgb24(samples[^3], samples[^2], samples[^1]), decoded[width - 1, height - 1]);
    }

    [Fact]
    public void Sample_count_must_match_the_header()
    {
        var error = Assert.Throws<ArgumentException>(() => PngWriter.Write(new MemoryStream(), 4, 4, PngWriter.ColourType.Rgb, 8, new byte[47]));

        Assert.Contains("48", error.Message);
    }

    [Theory]
    [InlineData(10, 20, 10, 20)] // p = 20: closest is b
    [InlineData(20, 10, 10, 20)] // p = 20: closest is a
    [InlineData(10, 10, 30, 10)] // p = -10: a and b tie at 20, a wins
    [InlineData(50, 60, 55, 55)] // p = 55: c is exact
    public void Paeth_predictor_follows_the_specification(int left, int up, int upLeft, int expected)
        => Assert.Equal(expected, RowFilter.PaethPredictor(left, up, upLeft));

    private static Rgba64 Expected(byte[] samples, int offset, PngWriter.ColourType type, int bitDepth)
    {
        ushort Sample(int index) => bitDepth == 8
            ? (ushort)(samples[offset + index] * 257)
            : (ushort)((samples[2 * offset + 2 * index] << 8) | samples[2 * offset + 2 * index + 1]);
        return type switch
        {
            PngWriter.ColourType.Grey => new Rgba64(Sample(0), Sample(0), Sample(0), ushort.MaxValue),
            PngWriter.ColourType.GreyAlpha => new Rgba64(Sample(0), Sample(0), Sample(0), Sample(1)),
            PngWriter.ColourType.Rgb => new Rgba64(Sample(0), Sample(1), Sample(2), ushort.MaxValue),
            _ => new Rgba64(Sample(0), Sample(1), Sample(2), Sample(3)),
        };
    }
}
