using CodeFormer.Imaging;
using static CodeFormer.Imaging.Tests.JpegSegmentWriter;

namespace CodeFormer.Imaging.Tests;

/// <summary>
/// Third round of attacks on the JPEG path: colour models, frame kinds libjpeg-turbo cannot or should not decode, and
/// decode-time bombs. Every file is written here by <see cref="JpegSegmentWriter"/>; every refusal names its rule.
/// </summary>
public sealed class HostileJpegTests
{
    private readonly ImageDecoder _decoder = new();

    private ImageRejectedException Refused(byte[] file) => Assert.Throws<ImageRejectedException>(() => _decoder.Decode(file));

    [Fact]
    public void Progressive_jpeg_with_hundreds_of_scans_is_refused_by_the_container_walk_before_any_decoding()
    {
        // 883 legal scans (every coefficient band refined bit by bit): at 100 MP such a file of 550 KB kept the decode
        // busy 14 s before SkiaSharp gave up at its 100th scan with a bare "damaged data".
        var file = ProgressiveGreyWithManyScans(256, 256, 150);

        var error = Refused(file);
        var inspectError = Assert.Throws<ImageRejectedException>(() => _decoder.Inspect(file));

        Assert.Equal(ImageRejectionRule.UnsupportedFormat, error.Rule);
        Assert.Contains($"more than {ContainerWalker.MaxJpegScans} scans", error.Message);
        Assert.Equal(error.Message, inspectError.Message); // refused from the structure alone
    }

    [Fact]
    public void Progressive_jpeg_with_more_scans_than_encoders_write_but_within_the_cap_decodes()
    {
        // 1 + 4 bands × 14 refinement steps = 57 scans: more than any encoder's script, still under the cap.
        var file = ProgressiveGreyWithManyScans(64, 48, 150, bands: 4);

        var decoded = _decoder.Decode(file);

        Assert.Equal((64, 48), (decoded.Image.Width, decoded.Image.Height));
        Assert.All(decoded.Image.Pixels, value => Assert.Equal(150f, value));
    }

    [Fact]
    public void Progressive_jpeg_one_scan_over_the_cap_is_refused()
    {
        var overCap = ProgressiveGreyWithManyScans(64, 48, 150, acScans: ContainerWalker.MaxJpegScans);

        Assert.Equal(ImageRejectionRule.UnsupportedFormat, Refused(overCap).Rule);
    }

    /// <summary>
    /// CMYK as Adobe writes it (stored inverted, with or without its APP14 segment) and YCCK (APP14 transform 2) decode
    /// to the colours libjpeg-turbo and OpenCV give: R = C × K / 255 on the stored (inverted) values, YCCK first turned
    /// into inverted CMY by the YCbCr formulas. Two colours alternate by 8-pixel unit so the grey test sees colour.
    /// </summary>
    [Theory]
    [InlineData("CMYK, no APP14", null, false)]
    [InlineData("CMYK, APP14 transform 0", (byte)0, false)]
    [InlineData("YCCK, APP14 transform 2", (byte)2, true)]
    public void Four_component_jpeg_decodes_to_the_colours_libjpeg_gives(string what, byte? transform, bool ycck)
    {
        byte[] first = [200, 100, 50, 220], second = [60, 180, 240, 250];
        Component[] components = [.. Enumerable.Range(0, 4).Select(c => new Component((byte)(c + 1), first[c], OddUnitLevel: second[c]))];
        var file = FlatJpeg(32, 8, components, transform);

        var decoded = _decoder.Decode(file);

        var pixels = decoded.Image.Pixels;
        foreach (var (x, stored) in new[] { (0, first), (8, second) })
        {
            var expected = ExpectedRgb(stored, ycck);
            for (var channel = 0; channel < 3; channel++)
            {
                Assert.True(Math.Abs(pixels[3 * x + channel] - expected[channel]) <= 1,
                    $"{what}: pixel {x} channel {channel} is {pixels[3 * x + channel]}, libjpeg gives {expected[channel]}");
            }
        }
        Assert.False(decoded.LooksGreyscale, what);
        Assert.False(decoded.SourceIsGreyscaleFormat, what);
    }

    [Fact]
    public void Cmyk_jpeg_with_exif_orientation_6_is_turned_upright_like_any_other()
    {
        Component[] cmyk = [new(1, 200, OddUnitLevel: 60), new(2, 100, OddUnitLevel: 180), new(3, 50, OddUnitLevel: 240), new(4, 220, OddUnitLevel: 250)];
        var orientation6 = CraftedFiles.Tiff(1, [0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);

        var decoded = _decoder.Decode(CraftedFiles.JpegWithExif(FlatJpeg(32, 8, cmyk, adobeTransform: 0), orientation6));

        Assert.Equal((8, 32), (decoded.Image.Width, decoded.Image.Height));
        Assert.Equal(6, decoded.Header.ExifOrientation);
        // Stored column 8 (the second colour) is displayed row 8 after a 90° clockwise turn.
        Assert.Equal(ExpectedRgb([60, 180, 240, 250], ycck: false)[0], decoded.Image.Pixels[8 * 8 * 3], 1.0);
        Assert.Empty(decoded.Header.Warnings);
    }

    private static double[] ExpectedRgb(byte[] stored, bool ycck)
    {
        double[] cmy = [stored[0], stored[1], stored[2]];
        if (ycck)
        {
            double y = stored[0], cb = stored[1] - 128, cr = stored[2] - 128;
            double[] rgb = [y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb];
            cmy = [.. rgb.Select(v => 255 - Math.Clamp(Math.Round(v), 0, 255))];
        }
        return [.. cmy.Select(v => Math.Round(v * stored[3] / 255.0))];
    }

    [Theory]
    [InlineData(4, 1)] // libjpeg-turbo warns and guesses YCCK: stored CMYK (200, 100, 50, 220) came out (141, 0, 91), not (173, 86, 43)
    [InlineData(4, 7)]
    [InlineData(3, 2)] // libjpeg-turbo warns and guesses YCbCr
    public void Undefined_adobe_colour_transform_is_refused_not_guessed(int components, byte transform)
    {
        Component[] stored = [.. new byte[] { 200, 100, 50, 220 }.Take(components).Select((level, c) => new Component((byte)(c + 1), level))];

        var error = Refused(FlatJpeg(16, 16, stored, adobeTransform: transform));

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains($"colour transform {transform} for {components} components", error.Message);
    }

    [Fact]
    public void Three_components_with_adobe_transform_0_are_rgb_as_libjpeg_reads_them()
    {
        var decoded = _decoder.Decode(FlatJpeg(16, 16, [new(1, 150), new(2, 100), new(3, 180)], adobeTransform: 0));

        Assert.Equal([150f, 100f, 180f], decoded.Image.Pixels[..3]);
    }

    [Theory]
    [InlineData(new byte[] { 1, 1, 1 }, "components 1 and 2 share the ID 1")]
    [InlineData(new byte[] { 1, 2, 2 }, "components 2 and 3 share the ID 2")]
    public void Components_sharing_an_id_are_refused_by_name(byte[] ids, string expected)
    {
        // Before: refused as "colour component 2 of 3 is never sent" (the coverage walk matched every scan to the first);
        // libjpeg-turbo itself renames duplicates and decodes by position, other decoders do not.
        Component[] components = [.. ids.Select((id, c) => new Component(id, (byte)(100 + 40 * c)))];

        var error = Refused(FlatJpeg(16, 16, components));

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains(expected, error.Message);
    }

    /// <summary>
    /// Frame kinds and sampling that libjpeg-turbo cannot or should not decode, each refused by the container walk with
    /// its reason (the last two were refused only by the decoder, as "damaged data").
    /// </summary>
    [Theory]
    [InlineData("12-bit (SOF1, P = 12)", 0xC1, 12, 0x11, ImageRejectionRule.UnsupportedFormat, "12-bit JPEG")]
    [InlineData("lossless (SOF3)", 0xC3, 8, 0x11, ImageRejectionRule.UnsupportedFormat, "lossless JPEG")]
    [InlineData("hierarchical (SOF5)", 0xC5, 8, 0x11, ImageRejectionRule.UnsupportedFormat, "hierarchical JPEG")]
    [InlineData("hierarchical progressive (SOF6)", 0xC6, 8, 0x11, ImageRejectionRule.UnsupportedFormat, "hierarchical JPEG")]
    [InlineData("hierarchical lossless (SOF7)", 0xC7, 8, 0x11, ImageRejectionRule.UnsupportedFormat, "lossless JPEG")]
    [InlineData("arithmetic (SOF9)", 0xC9, 8, 0x11, ImageRejectionRule.UnsupportedFormat, "arithmetic-coded JPEG")]
    [InlineData("sampling 0×1", 0xC0, 8, 0x01, ImageRejectionRule.MalformedHeader, "impossible sampling 0×1")]
    [InlineData("sampling 5×1", 0xC0, 8, 0x51, ImageRejectionRule.MalformedHeader, "impossible sampling 5×1")]
    [InlineData("sampling 3×3 + 1×1 + 1×1: 11 blocks a unit", 0xC0, 8, 0x33, ImageRejectionRule.MalformedHeader, "a unit of 11 blocks")]
    [InlineData("sampling 3×1 + 2×1 + 1×1: fractional", 0xC0, 8, 0x31, ImageRejectionRule.UnsupportedFormat, "not whole multiples")]
    public void Frame_kinds_libjpeg_turbo_cannot_decode_are_refused_by_name(string what, byte frameMarker, byte precision, byte lumaSampling,
        ImageRejectionRule rule, string expected)
    {
        var second = new Component(2, 100, (byte)(what.Contains("fractional") ? 2 : 1));
        Component[] components = [new(1, 150, (byte)(lumaSampling >> 4), (byte)(lumaSampling & 15)), second, new(3, 180)];

        var error = Refused(FlatJpeg(48, 48, components, frameMarker: frameMarker, precision: precision));

        Assert.True(rule == error.Rule, $"{what}: {error.Rule}: {error.Message}");
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData(0, 3, "impossible size 32×0")]
    [InlineData(32, 0, "declares 0 colour components")]
    [InlineData(32, 2, "declares 2 colour components")]
    [InlineData(32, 255, "declares 255 colour components")]
    public void Height_zero_and_component_counts_other_than_1_3_4_are_malformed(int height, int count, string expected)
    {
        Component[] components = [.. Enumerable.Range(0, count).Select(c => new Component((byte)(c + 1), 128))];

        var error = Refused(FlatJpeg(32, height, components));

        Assert.Equal(ImageRejectionRule.MalformedHeader, error.Rule);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Height_set_by_a_dnl_marker_is_refused_by_name()
    {
        var dnl = Segment(0xDC, [0, 32]);

        var error = Refused(FlatJpeg(32, 32, [new Component(1, 128)], extraSegments: [dnl]));

        Assert.Equal(ImageRejectionRule.UnsupportedFormat, error.Rule);
        Assert.Contains("DNL marker", error.Message);
    }
}
