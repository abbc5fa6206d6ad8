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
}
