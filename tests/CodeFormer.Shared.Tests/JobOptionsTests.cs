using CodeFormer.Shared.Jobs;

namespace CodeFormer.Shared.Tests;

public sealed class JobOptionsTests
{
    [Fact]
    public void Defaults_follow_the_cli_and_are_valid()
    {
        var options = JobOptions.Default;
        Assert.Equal(0.5, options.Fidelity);
        Assert.Equal(2, options.Upscale);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData(-0.01, 2, null, "fidelity")]
    [InlineData(1.01, 2, null, "fidelity")]
    [InlineData(double.NaN, 2, null, "fidelity")]
    [InlineData(0.5, 0, null, "upscale")]
    [InlineData(0.5, 5, null, "upscale")]
    [InlineData(0.5, 2, 0, "maxFaces")]
    public void Out_of_range_options_are_refused_by_field_name(double fidelity, int upscale, int? maxFaces, string field)
    {
        var options = new JobOptions { Fidelity = fidelity, Upscale = upscale, MaxFaces = maxFaces };
        var error = Assert.Single(options.Validate());
        Assert.Equal(field, error.Field);
        var thrown = Assert.Throws<InvalidJobOptionsException>(() => options.EnsureValid());
        Assert.Contains(field, thrown.Message);
    }

    [Fact]
    public void Face_upsampling_without_the_background_upsampler_is_refused()
    {
        var error = Assert.Single(new JobOptions { FaceUpsample = true }.Validate());
        Assert.Equal("faceUpsample", error.Field);
        Assert.Empty(new JobOptions { FaceUpsample = true, BackgroundUpsampler = BackgroundUpsampler.RealEsrgan }.Validate());
    }

    [Fact]
    public void Every_broken_rule_is_reported_not_just_the_first()
    {
        var errors = new JobOptions { Fidelity = 2, Upscale = 9, MaxFaces = -1 }.Validate();
        Assert.Equal(["fidelity", "upscale", "maxFaces"], errors.Select(e => e.Field));
    }

    [Fact]
    public void Blob_metadata_sets_every_option()
    {
        var options = BlobMetadataOptions.Parse(new Dictionary<string, string>
        {
            ["fidelity"] = "0.7",
            ["Upscale"] = "3",
            ["bg_upsampler"] = "realesrgan",
            ["face_upsample"] = "true",
            ["detector"] = "retinaface",
            ["max_faces"] = "4",
            ["output_format"] = "webp",
            ["webhook_url"] = "https://example.com/hook",
            ["some_tool_metadata"] = "ignored",
        });
        Assert.Equal(new JobOptions
        {
            Fidelity = 0.7, Upscale = 3, BackgroundUpsampler = BackgroundUpsampler.RealEsrgan, FaceUpsample = true,
            Detector = FaceDetectorKind.RetinaFace, MaxFaces = 4, OutputFormat = ResultFormat.Webp, WebhookUrl = "https://example.com/hook",
        }, options);
    }

    [Fact]
    public void Bad_blob_metadata_is_refused_naming_each_key()
    {
        var error = Assert.Throws<InvalidJobOptionsException>(() => BlobMetadataOptions.Parse(new Dictionary<string, string>
        {
            ["fidelity"] = "high",
            ["upscale"] = "8x",
            ["only_center_face"] = "maybe",
        }));
        Assert.Equal(["fidelity", "only_center_face", "upscale"], error.Errors.Select(e => e.Field).Order());
    }

    [Fact]
    public void Metadata_values_out_of_range_are_refused()
    {
        var error = Assert.Throws<InvalidJobOptionsException>(() => BlobMetadataOptions.Parse(new Dictionary<string, string> { ["upscale"] = "8" }));
        Assert.Equal("upscale", Assert.Single(error.Errors).Field);
    }
}
