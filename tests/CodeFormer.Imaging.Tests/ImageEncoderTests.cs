using CodeFormer.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Imaging.Tests;

public sealed class ImageEncoderTests
{
    private readonly ImageEncoder _encoder = new();
    private readonly ImageDecoder _decoder = new();

    [Fact]
    public void Png_round_trip_is_within_one_level()
    {
        var original = FractionalImage(37, 23);

        var decoded = _decoder.Decode(_encoder.Encode(original, ImageFileFormat.Png));

        Assert.Equal(ImageFileFormat.Png, decoded.Format);
        Assert.Equal((37, 23), (decoded.Image.Width, decoded.Image.Height));
        for (var i = 0; i < original.Pixels.Length; i++)
        {
            // Rounding to 8 bits moves a value by at most half a level.
            Assert.InRange(Math.Abs(decoded.Image.Pixels[i] - original.Pixels[i]), 0f, 0.5f);
        }
    }

    [Theory]
    [InlineData(ImageFileFormat.Jpeg)]
    [InlineData(ImageFileFormat.Webp)]
    public void Lossy_round_trip_at_quality_95_stays_close(ImageFileFormat format)
    {
        var original = SmoothImage(64, 48);

        var decoded = _decoder.Decode(_encoder.Encode(original, format, quality: 95));

        Assert.Equal(format, decoded.Format);
        var meanError = original.Pixels.Zip(decoded.Image.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanError < 2.0, $"mean absolute error {meanError}");
    }

    [Theory]
    [InlineData(ImageFileFormat.Jpeg)]
    [InlineData(ImageFileFormat.Webp)]
    public void Quality_reaches_the_lossy_encoders(ImageFileFormat format)
    {
        var image = FractionalImage(64, 64);

        var low = _encoder.Encode(image, format, quality: 20);
        var high = _encoder.Encode(image, format, quality: 95);

        Assert.True(low.Length < high.Length, $"quality 20 gave {low.Length} bytes, quality 95 gave {high.Length}");
    }

    [Theory]
    [InlineData(ImageFileFormat.Png)]
    [InlineData(ImageFileFormat.Webp)]
    public void Alpha_survives_a_round_trip(ImageFileFormat format)
    {
        var original = FractionalImage(9, 7);
        var alpha = Enumerable.Range(0, 63).Select(i => (float)(i * 4)).ToArray();
        var withAlpha = new RgbImage(9, 7, original.Pixels) { Alpha = alpha };

        var decoded = _decoder.Decode(_encoder.Encode(withAlpha, format));

        Assert.True(decoded.HasAlpha);
        Assert.Equal(alpha, decoded.Image.Alpha);
        Assert.False(ImageEncoder.DropsAlpha(withAlpha, format));
    }

    [Fact]
    public void Jpeg_drops_alpha_and_says_so()
    {
        var withAlpha = new RgbImage(4, 4) { Alpha = new float[16] };

        var decoded = _decoder.Decode(_encoder.Encode(withAlpha, ImageFileFormat.Jpeg));

        Assert.True(ImageEncoder.DropsAlpha(withAlpha, ImageFileFormat.Jpeg));
        Assert.False(decoded.HasAlpha);
        Assert.Null(decoded.Image.Alpha);
    }

    [Fact]
    public void Out_of_range_values_clamp_instead_of_wrapping()
    {
        float[] values = [-20f, 300f, 1e6f, float.NaN, 254.5f, 0.5f, 1.5f, 255.49f, -0.4f];
        var image = new RgbImage(3, 1, values);

        var decoded = _decoder.Decode(_encoder.Encode(image, ImageFileFormat.Png));

        // Half-to-even as torch.round: 254.5 → 254, 0.5 → 0, 1.5 → 2.
        Assert.Equal(new float[] { 0, 255, 255, 0, 254, 0, 2, 255, 0 }, decoded.Image.Pixels);
    }

    [Fact]
    public void Grey_output_over_255_stays_white_not_black()
    {
        // The reference's #222: a grey face pushed above 255 by AdaIN came out black after a uint16 cast.
        var image = new RgbImage(2, 1, [300f, 300f, 300f, 260f, 255f, 270f]);

        var decoded = _decoder.Decode(_encoder.Encode(image, ImageFileFormat.Png, greyscale: true));

        Assert.Equal(new float[] { 255, 255, 255, 255, 255, 255 }, decoded.Image.Pixels);
    }

    [Theory]
    [InlineData(ImageFileFormat.Png)]
    [InlineData(ImageFileFormat.Jpeg)]
    public void Greyscale_output_is_a_single_channel_file_with_the_reference_luma(ImageFileFormat format)
    {
        var image = new RgbImage(16, 16);
        for (var i = 0; i < image.Pixels.Length; i += 3)
        {
            image.Pixels[i] = 200;
            image.Pixels[i + 1] = 100;
            image.Pixels[i + 2] = 50;
        }

        var bytes = _encoder.Encode(image, format, greyscale: true);
        var decoded = _decoder.Decode(bytes);

        Assert.True(decoded.SourceIsGreyscaleFormat);
        var expected = MathF.Round(0.2989f * 200 + 0.587f * 100 + 0.114f * 50); // 124
        var tolerance = format == ImageFileFormat.Png ? 0f : 1f;
        Assert.All(decoded.Image.Pixels, v => Assert.InRange(v, expected - tolerance, expected + tolerance));
        if (format == ImageFileFormat.Jpeg)
        {
            Assert.Equal(JpegColorType.Luminance, SixLabors.ImageSharp.Image.Identify(bytes).Metadata.GetJpegMetadata().ColorType);
        }
    }

    [Fact]
    public void Greyscale_png_keeps_alpha()
    {
        var image = new RgbImage(2, 1, [10f, 10f, 10f, 90f, 90f, 90f]) { Alpha = [0f, 128f] };

        var decoded = _decoder.Decode(_encoder.Encode(image, ImageFileFormat.Png, greyscale: true));

        Assert.True(decoded.SourceIsGreyscaleFormat);
        Assert.Equal(new float[] { 0, 128 }, decoded.Image.Alpha);
        Assert.Equal(90f, decoded.Image.Pixels[3]);
    }

    [Fact]
    public void Sixteen_bit_png_round_trip_keeps_fractions()
    {
        var original = FractionalImage(11, 7);

        var decoded = _decoder.Decode(_encoder.Encode(original, ImageFileFormat.Png, pngBitDepth: 16));

        Assert.Equal(16, decoded.BitDepth);
        for (var i = 0; i < original.Pixels.Length; i++)
        {
            // Half a 16-bit level is 0.5/257 of an 8-bit level.
            Assert.InRange(Math.Abs(decoded.Image.Pixels[i] - original.Pixels[i]), 0f, 0.5f / 257f + 1e-4f);
        }
    }

    [Fact]
    public void Sixteen_bit_png_clamps_and_keeps_grey_and_alpha()
    {
        var image = new RgbImage(2, 1, [300f, 300f, 300f, 100.25f, 100.25f, 100.25f]) { Alpha = [-5f, 127.5f] };

        var grey = _decoder.Decode(_encoder.Encode(image, ImageFileFormat.Png, greyscale: true, pngBitDepth: 16));
        var colour = _decoder.Decode(_encoder.Encode(image, ImageFileFormat.Png, pngBitDepth: 16));

        Assert.True(grey.SourceIsGreyscaleFormat);
        Assert.Equal(16, grey.BitDepth);
        Assert.Equal(255f, grey.Image.Pixels[0], 3);
        // The reference's luma weights sum to 0.9999, so a grey 100.25 becomes 100.24.
        Assert.Equal(0.9999f * 100.25f, grey.Image.Pixels[3], 2);
        Assert.Equal(0f, grey.Image.Alpha![0]);
        Assert.Equal(127.5f, grey.Image.Alpha[1], 2);
        Assert.Equal(new[] { 255f, 255f, 255f }, colour.Image.Pixels[..3]);
        Assert.Equal(100.25f, colour.Image.Pixels[4], 2);
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var image = new RgbImage(2, 2);
        var quality = Assert.Throws<ArgumentOutOfRangeException>(() => _encoder.Encode(image, ImageFileFormat.Jpeg, quality: 0));
        Assert.Contains("between 1 and 100", quality.Message);

        var wrongAlpha = new RgbImage(2, 2) { Alpha = new float[3] };
        var alpha = Assert.Throws<ArgumentException>(() => _encoder.Encode(wrongAlpha, ImageFileFormat.Png));
        Assert.Contains("needs 4 values, got 3", alpha.Message);

        var deepJpeg = Assert.Throws<ArgumentException>(() => _encoder.Encode(image, ImageFileFormat.Jpeg, pngBitDepth: 16));
        Assert.Contains("only as PNG", deepJpeg.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => _encoder.Encode(image, ImageFileFormat.Png, pngBitDepth: 12));
    }

    [Theory]
    [InlineData("out/x.png", ImageFileFormat.Png)]
    [InlineData("X.JPG", ImageFileFormat.Jpeg)]
    [InlineData("a.b.jpeg", ImageFileFormat.Jpeg)]
    [InlineData("face.WebP", ImageFileFormat.Webp)]
    public void Output_format_follows_the_extension(string path, ImageFileFormat expected)
    {
        Assert.Equal(expected, OutputFormat.FromExtension(path));
        Assert.Equal(expected, OutputFormat.FromExtension(Path.ChangeExtension("y", OutputFormat.ExtensionOf(expected))));
    }

    [Theory]
    [InlineData("out.tiff")]
    [InlineData("noextension")]
    public void Unknown_output_extension_is_an_error_naming_it(string path)
    {
        var error = Assert.Throws<ArgumentException>(() => OutputFormat.FromExtension(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(".png, .jpg, .jpeg, .webp", error.Message);
    }

    [Fact]
    public void Encode_to_stream_writes_the_same_bytes()
    {
        var image = FractionalImage(5, 5);
        using var stream = new MemoryStream();

        _encoder.EncodeTo(stream, image, ImageFileFormat.Png);

        Assert.Equal(_encoder.Encode(image, ImageFileFormat.Png), stream.ToArray());
        using var check = SixLabors.ImageSharp.Image.Load<Rgb24>(stream.ToArray());
        Assert.Equal(5, check.Width);
    }

    /// <summary>
    /// The engine's result canvas is encoded by packing its 8-bit samples into its own float array (no whole-image
    /// buffer beside it). 700×500 is 350,000 pixels: the packing runs its sequential start and then several parallel
    /// ranges, each writing over pixels read before; any overlap would change the bytes.
    /// </summary>
    [Theory]
    [InlineData(ImageFileFormat.Jpeg, false, false)]
    [InlineData(ImageFileFormat.Jpeg, true, false)]
    [InlineData(ImageFileFormat.Webp, false, true)]
    [InlineData(ImageFileFormat.Webp, true, false)]
    public void Consuming_encode_writes_the_same_bytes_as_the_plain_encode(ImageFileFormat format, bool greyscale, bool withAlpha)
    {
        var image = FractionalImage(700, 500);
        if (withAlpha)
        {
            image = new RgbImage(image.Width, image.Height, image.Pixels) { Alpha = Enumerable.Range(0, 700 * 500).Select(i => (float)(i % 256)).ToArray() };
        }

        var plain = _encoder.Encode(image, format, quality: 90, greyscale: greyscale);
        var consumed = _encoder.EncodeConsuming(image, format, quality: 90, greyscale: greyscale);

        Assert.Equal(plain, consumed);
        var decoded = _decoder.Decode(consumed);
        Assert.Equal((700, 500), (decoded.Image.Width, decoded.Image.Height));
    }

    [Fact]
    public void Consuming_png_encode_leaves_the_image_intact()
    {
        var image = FractionalImage(40, 30);
        var before = (float[])image.Pixels.Clone();

        var bytes = _encoder.EncodeConsuming(image, ImageFileFormat.Png);

        Assert.Equal(before, image.Pixels);
        Assert.Equal(_encoder.Encode(image, ImageFileFormat.Png), bytes);
    }

    [Fact]
    public void Colour_jpeg_is_written_with_4_2_0_chroma()
    {
        var bytes = _encoder.Encode(SmoothImage(64, 48), ImageFileFormat.Jpeg, quality: 90);

        // Baseline SOF0: FF C0, length, precision, height, width, 3 components of (id, sampling HV, table).
        int sof = Enumerable.Range(0, bytes.Length - 1).First(i => bytes[i] == 0xFF && bytes[i + 1] == 0xC0);
        Assert.Equal(3, bytes[sof + 9]);
        Assert.Equal(0x22, bytes[sof + 11]); // Y: 2×2
        Assert.Equal(0x11, bytes[sof + 14]); // Cb: 1×1
        Assert.Equal(0x11, bytes[sof + 17]); // Cr: 1×1
    }

    /// <summary>Values with fractions spread over the whole range, as a restoration output has.</summary>
    private static RgbImage FractionalImage(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (var i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (i * 37.37f) % 255f;
        }
        return image;
    }

    private static RgbImage SmoothImage(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                image.Pixels[i] = 40 + 3 * x;
                image.Pixels[i + 1] = 60 + 2 * y;
                image.Pixels[i + 2] = 128;
            }
        }
        return image;
    }
}
