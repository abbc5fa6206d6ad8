using System.Buffers.Binary;
using CodeFormer.Imaging;
using CodeFormer.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Imaging.Tests;

public sealed class ImageDecoderTests
{
    private readonly ImageDecoder _decoder = new();

    [AssetTheory(
        "images/astronaut.png", "images/codait_bryan_115x115.png", "images/codait_luciano_400x400.png",
        "images/grace_hopper_517x606.jpg", "images/grace_hopper_600x403.jpg", "images/hopper_128x128.png",
        "images/solvay_1927_1280x926.png", "images/solvay_1927_2126x1463.jpg")]
    [InlineData("images/astronaut.png", 512, 512, ImageFileFormat.Png)]
    [InlineData("images/codait_bryan_115x115.png", 115, 115, ImageFileFormat.Png)]
    [InlineData("images/codait_luciano_400x400.png", 400, 400, ImageFileFormat.Png)]
    [InlineData("images/grace_hopper_517x606.jpg", 517, 606, ImageFileFormat.Jpeg)]
    [InlineData("images/grace_hopper_600x403.jpg", 600, 403, ImageFileFormat.Jpeg)]
    [InlineData("images/hopper_128x128.png", 128, 128, ImageFileFormat.Png)]
    [InlineData("images/solvay_1927_1280x926.png", 1280, 926, ImageFileFormat.Png)]
    [InlineData("images/solvay_1927_2126x1463.jpg", 2126, 1463, ImageFileFormat.Jpeg)]
    public void Every_shared_photo_decodes_with_its_size(string asset, int width, int height, ImageFileFormat format)
    {
        var decoded = _decoder.Decode(File.ReadAllBytes(TestAssets.PathOf(asset)));

        Assert.Equal(format, decoded.Format);
        Assert.Equal((width, height), (decoded.Image.Width, decoded.Image.Height));
        Assert.Equal((width, height), (decoded.OriginalWidth, decoded.OriginalHeight));
        Assert.Equal(8, decoded.BitDepth);
        Assert.All(decoded.Image.Pixels, v => Assert.InRange(v, 0f, 255f));
        // A real photo spans a wide range of values; an all-black half-decode would not.
        Assert.True(decoded.Image.Pixels.Max() - decoded.Image.Pixels.Min() > 100);
    }

    [AssetFact("images/solvay_1927_1280x926.png")]
    public void Solvay_png_is_a_greyscale_file_and_looks_grey()
    {
        var decoded = _decoder.Decode(File.ReadAllBytes(TestAssets.PathOf("images/solvay_1927_1280x926.png")));

        Assert.True(decoded.SourceIsGreyscaleFormat);
        Assert.True(decoded.LooksGreyscale);
        Assert.True(decoded.IsGreyscale);
        Assert.Equal(0.0, GreyscaleDetector.MeanChannelDifferenceVariance(decoded.Image));
    }

    [AssetFact("images/solvay_1927_2126x1463.jpg")]
    public void Solvay_jpeg_is_stored_in_colour_but_looks_grey()
    {
        var decoded = _decoder.Decode(File.ReadAllBytes(TestAssets.PathOf("images/solvay_1927_2126x1463.jpg")));

        Assert.False(decoded.SourceIsGreyscaleFormat);
        Assert.True(decoded.LooksGreyscale, $"variance {GreyscaleDetector.MeanChannelDifferenceVariance(decoded.Image)}");
        Assert.True(decoded.IsGreyscale);
    }

    [AssetFact("images/astronaut.png")]
    public void Colour_photo_is_not_grey()
    {
        var decoded = _decoder.Decode(File.ReadAllBytes(TestAssets.PathOf("images/astronaut.png")));

        Assert.False(decoded.SourceIsGreyscaleFormat);
        Assert.False(decoded.LooksGreyscale);
        Assert.True(GreyscaleDetector.MeanChannelDifferenceVariance(decoded.Image) > 100);
    }

    [AssetFact("images/codait_bryan_115x115.png", "images/hopper_128x128.png")]
    public void Rgba_png_keeps_its_alpha_and_rgb_png_has_none()
    {
        var withAlpha = _decoder.Decode(File.ReadAllBytes(TestAssets.PathOf("images/codait_bryan_115x115.png")));
        var opaque = _decoder.Decode(File.ReadAllBytes(TestAssets.PathOf("images/hopper_128x128.png")));

        Assert.True(withAlpha.HasAlpha);
        Assert.NotNull(withAlpha.Image.Alpha);
        Assert.Equal(115 * 115, withAlpha.Image.Alpha!.Length);
        Assert.All(withAlpha.Image.Alpha, a => Assert.InRange(a, 0f, 255f));
        Assert.False(opaque.HasAlpha);
        Assert.Null(opaque.Image.Alpha);
    }

    [Fact]
    public void Alpha_values_are_decoded_exactly()
    {
        using var image = new Image<Rgba32>(4, 2);
        image[0, 0] = new Rgba32(10, 20, 30, 0);
        image[1, 0] = new Rgba32(10, 20, 30, 77);
        image[2, 1] = new Rgba32(200, 100, 50, 255);

        var decoded = _decoder.Decode(EncodedImages.Encode(image, new PngEncoder { ColorType = PngColorType.RgbWithAlpha }));

        Assert.True(decoded.HasAlpha);
        Assert.Equal(0f, decoded.Image.Alpha![0]);
        Assert.Equal(77f, decoded.Image.Alpha[1]);
        Assert.Equal(255f, decoded.Image.Alpha[6]);
        Assert.Equal(new[] { 200f, 100f, 50f }, decoded.Image.Pixels.AsSpan(6 * 3, 3).ToArray());
    }

    [Fact]
    public void Too_wide_image_is_refused_naming_the_numbers()
    {
        var png = EncodedImages.GradientPng(40, 30);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(png, new ImageLimits { MaxWidth = 39 }));

        Assert.Equal(ImageRejectionRule.MaxWidth, error.Rule);
        Assert.Contains("width 40 px exceeds the limit of 39 px", error.Message);
    }

    [Fact]
    public void Too_tall_image_is_refused_naming_the_numbers()
    {
        var png = EncodedImages.GradientPng(40, 30);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(png, new ImageLimits { MaxHeight = 29 }));

        Assert.Equal(ImageRejectionRule.MaxHeight, error.Rule);
        Assert.Contains("height 30 px exceeds the limit of 29 px", error.Message);
    }

    [Fact]
    public void Too_many_pixels_is_refused_naming_the_numbers()
    {
        var png = EncodedImages.GradientPng(40, 30);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(png, new ImageLimits { MaxPixels = 1199 }));

        Assert.Equal(ImageRejectionRule.MaxPixels, error.Rule);
        Assert.Contains("1200 pixels exceeds the limit of 1199 pixels", error.Message);
        // Exactly at the limit is accepted.
        Assert.Equal(40, _decoder.Decode(png, new ImageLimits { MaxPixels = 1200 }).Image.Width);
    }

    [Fact]
    public void Too_many_bytes_is_refused_for_arrays_spans_and_unseekable_streams()
    {
        var png = EncodedImages.GradientPng(40, 30);
        var limits = new ImageLimits { MaxBytes = png.Length - 1 };

        var fromArray = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(png, limits));
        var fromSpan = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(png.AsSpan(), limits));
        var fromStream = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(new ForwardOnlyStream(png), limits));

        Assert.All(new[] { fromArray, fromSpan, fromStream }, e => Assert.Equal(ImageRejectionRule.MaxBytes, e.Rule));
        Assert.Contains($"file size {png.Length} bytes exceeds the limit of {png.Length - 1} bytes", fromArray.Message);
        Assert.Equal(30, _decoder.Decode(new ForwardOnlyStream(png), new ImageLimits { MaxBytes = png.Length }).Image.Height);
    }

    [Fact]
    public async Task Async_stream_decoding_applies_the_same_byte_limit()
    {
        var png = EncodedImages.GradientPng(40, 30);

        var error = await Assert.ThrowsAsync<ImageRejectedException>(
            () => _decoder.DecodeAsync(new ForwardOnlyStream(png), new ImageLimits { MaxBytes = png.Length - 1 }));
        var decoded = await _decoder.DecodeAsync(new ForwardOnlyStream(png), new ImageLimits { MaxBytes = png.Length });

        Assert.Equal(ImageRejectionRule.MaxBytes, error.Rule);
        Assert.Equal((40, 30), (decoded.Image.Width, decoded.Image.Height));
    }

    [Fact]
    public void Png_header_claiming_100000_square_is_refused_from_the_header_alone()
    {
        var crafted = PngWithHeaderOnly(100_000, 100_000);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(crafted));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.Equal(ImageRejectionRule.MaxWidth, error.Rule);
        Assert.Contains("width 100000 px exceeds the limit of 16384 px", error.Message);
        Assert.True(allocated < 4_000_000, $"refusing the header allocated {allocated} bytes");

        // With the side limits lifted the pixel count (10^10) is what refuses it.
        var lifted = new ImageLimits { MaxWidth = 200_000, MaxHeight = 200_000 };
        var pixels = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(crafted, lifted));
        Assert.Equal(ImageRejectionRule.MaxPixels, pixels.Rule);
        Assert.Contains("10000000000 pixels exceeds the limit of 100000000 pixels", pixels.Message);
    }

    [Fact]
    public void Tiff_bmp_and_gif_are_refused_naming_their_format()
    {
        using var image = EncodedImages.Gradient(16, 8);
        var files = new Dictionary<string, byte[]>
        {
            ["TIFF"] = EncodedImages.Encode(image, new TiffEncoder()),
            ["BMP"] = EncodedImages.Encode(image, new BmpEncoder()),
            ["GIF"] = EncodedImages.Encode(image, new GifEncoder()),
        };

        foreach (var (name, bytes) in files)
        {
            var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(bytes));
            Assert.Equal(ImageRejectionRule.UnsupportedFormat, error.Rule);
            Assert.Contains($"The image is {name}", error.Message);
            Assert.Contains("only JPEG, PNG and WebP", error.Message);
        }
    }

    [Fact]
    public void Heic_header_is_named()
    {
        var heic = new byte[] { 0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'h', (byte)'e', (byte)'i', (byte)'c', 0, 0, 0, 0 };

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(heic));

        Assert.Equal(ImageRejectionRule.UnsupportedFormat, error.Rule);
        Assert.Contains("HEIC", error.Message);
    }

    [Theory]
    [InlineData(new byte[0], "empty (0 bytes)", ImageRejectionRule.NotDecodable)]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, "start with 0x0102030405060708", ImageRejectionRule.NotDecodable)]
    // Stubs of a real header are truncated files (rule Truncated since the hostile-input work; it was NotDecodable).
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF }, "JPEG", ImageRejectionRule.NotDecodable)]
    [InlineData(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10, 0, 0 }, "PNG", ImageRejectionRule.Truncated)]
    public void Empty_garbage_and_stub_bytes_are_not_decodable(byte[] bytes, string expectedDetail, ImageRejectionRule expectedRule)
    {
        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(bytes));

        Assert.Equal(expectedRule, error.Rule);
        Assert.Contains("not a decodable JPEG/PNG/WebP image", error.Message);
        Assert.Contains(expectedDetail, error.Message);
    }

    [AssetTheory("images/grace_hopper_517x606.jpg")]
    [InlineData(0.02)]
    [InlineData(0.5)]
    [InlineData(0.99)]
    public void Truncated_jpeg_is_refused(double keptFraction)
    {
        var full = File.ReadAllBytes(TestAssets.PathOf("images/grace_hopper_517x606.jpg"));
        var truncated = full[..(int)(full.Length * keptFraction)];

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(truncated));

        // Truncation has its own rule (Truncated) so the service can tell the user "the upload is incomplete".
        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
        Assert.Contains("not a decodable JPEG/PNG/WebP image", error.Message);
    }

    [Fact]
    public void Truncated_png_and_webp_are_refused_although_imagesharp_would_half_decode_them()
    {
        using var image = EncodedImages.Gradient(64, 64);
        var png = EncodedImages.Encode(image, new PngEncoder());
        var webp = EncodedImages.Encode(image, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy });

        foreach (var bytes in new[] { png[..(png.Length * 2 / 3)], webp[..(webp.Length * 2 / 3)], png[..^1] })
        {
            var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(bytes));
            Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
            Assert.Contains("truncated", error.Message);
        }
    }

    [Fact]
    public void Exif_orientation_6_is_applied_and_the_stored_size_kept()
    {
        // Stored 40×20: left half red, right half blue. Orientation 6 means "rotate 90° clockwise to display",
        // so the stored left edge becomes the displayed top.
        using var stored = new Image<Rgb24>(40, 20);
        for (var y = 0; y < 20; y++)
        {
            for (var x = 0; x < 40; x++)
            {
                stored[x, y] = x < 20 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255);
            }
        }
        stored.Metadata.ExifProfile = new ExifProfile();
        stored.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        var jpeg = EncodedImages.Encode(stored, new JpegEncoder { Quality = 100 });

        var decoded = _decoder.Decode(jpeg);

        Assert.Equal((20, 40), (decoded.Image.Width, decoded.Image.Height));
        Assert.Equal((40, 20), (decoded.OriginalWidth, decoded.OriginalHeight));
        Assert.Equal(6, decoded.Header.ExifOrientation);
        var top = Pixel(decoded.Image, 10, 5);
        var bottom = Pixel(decoded.Image, 10, 35);
        Assert.True(top.R > 200 && top.B < 60, $"top pixel {top}");
        Assert.True(bottom.B > 200 && bottom.R < 60, $"bottom pixel {bottom}");
    }

    [Fact]
    public void Sixteen_bit_png_keeps_fractional_precision()
    {
        using var image = new Image<Rgb48>(3, 1);
        image[0, 0] = new Rgb48(25828, 0, 65535);
        image[1, 0] = new Rgb48(1, 32768, 12345);
        image[2, 0] = new Rgb48(65534, 257, 100);
        var png = EncodedImages.Encode(image, new PngEncoder { BitDepth = PngBitDepth.Bit16, ColorType = PngColorType.Rgb });

        var decoded = _decoder.Decode(png);

        Assert.Equal(16, decoded.BitDepth);
        ushort[] raw = [25828, 0, 65535, 1, 32768, 12345, 65534, 257, 100];
        for (var i = 0; i < raw.Length; i++)
        {
            Assert.Equal(raw[i] * 255.0 / 65535.0, decoded.Image.Pixels[i], 3);
        }
        // 25828 sits between 8-bit levels 100 and 101: the fraction must survive.
        Assert.InRange(decoded.Image.Pixels[0], 100.45f, 100.55f);
    }

    [Fact]
    public void Sixteen_bit_grey_png_is_a_greyscale_file_with_16_bits()
    {
        using var image = new Image<L16>(2, 2);
        image[0, 0] = new L16(1000);
        image[1, 1] = new L16(65535);
        var png = EncodedImages.Encode(image, new PngEncoder { BitDepth = PngBitDepth.Bit16, ColorType = PngColorType.Grayscale });

        var decoded = _decoder.Decode(png);

        Assert.True(decoded.SourceIsGreyscaleFormat);
        Assert.Equal(16, decoded.BitDepth);
        Assert.Equal(1000 * 255.0 / 65535.0, decoded.Image.Pixels[0], 3);
        Assert.Equal(decoded.Image.Pixels[0], decoded.Image.Pixels[1]);
        Assert.Equal(255f, decoded.Image.Pixels[9], 3);
    }

    [Fact]
    public void Inspect_reads_the_header_without_decoding()
    {
        using var image = new Image<Rgba32>(7, 5);
        var webp = EncodedImages.Encode(image, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless });

        var header = _decoder.Inspect(webp);

        Assert.Equal(ImageFileFormat.Webp, header.Format);
        Assert.Equal((7, 5), (header.Width, header.Height));
        Assert.Equal(35, header.PixelCount);
    }

    [Fact]
    public void Cancelled_token_stops_decoding()
    {
        var png = EncodedImages.GradientPng(40, 30);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => _decoder.Decode(png, cancellationToken: cancelled.Token));
    }

    private static Rgb24 Pixel(RgbImage image, int x, int y)
    {
        var i = (y * image.Width + x) * 3;
        return new Rgb24((byte)image.Pixels[i], (byte)image.Pixels[i + 1], (byte)image.Pixels[i + 2]);
    }

    /// <summary>A PNG signature, an IHDR with the given size (valid CRC) and IEND — no pixel data at all.</summary>
    private static byte[] PngWithHeaderOnly(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(stream, "IHDR", ihdr);
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typeAndData = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        stream.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }
        return ~crc;
    }

    /// <summary>A stream that cannot seek, like a network body, so its length is unknown up front.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
