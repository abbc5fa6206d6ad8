using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Testing;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>Progress, cancellation, errors and timings of the engine, on the cheap identity network.</summary>
[Collection(PipelineCollection.Name)]
public sealed class EngineBehaviourTests(PipelineFixture fixture)
{
    [AssetFact(YuNet, Astronaut)]
    public void Progress_moves_forward_through_the_stages_and_ends_at_one()
    {
        var progress = new RecordingProgress();
        fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions(), progress);

        var reports = progress.Reports;
        Assert.True(reports.Count >= 6, $"only {reports.Count} progress reports");
        Assert.Equal(0, reports[0].Fraction);
        Assert.Equal(RestorationStage.Decode, reports[0].Stage);
        Assert.Equal(1, reports[^1].Fraction);
        Assert.Equal(RestorationStage.Encode, reports[^1].Stage);
        for (int i = 1; i < reports.Count; i++)
        {
            Assert.True(reports[i].Fraction >= reports[i - 1].Fraction, $"progress went back from {reports[i - 1]} to {reports[i]}");
            Assert.True(reports[i].Stage >= reports[i - 1].Stage, $"stage went back from {reports[i - 1]} to {reports[i]}");
        }
        Assert.All(reports, r => Assert.False(string.IsNullOrWhiteSpace(r.Message)));
        Assert.Contains(reports, r => r.Stage == RestorationStage.Restore);
    }

    [AssetTheory(YuNet, Solvay)]
    [InlineData(RestorationStage.Detect)]
    [InlineData(RestorationStage.Restore)]
    [InlineData(RestorationStage.Paste)]
    public void Cancelling_from_a_progress_callback_stops_the_photo_and_the_engine_stays_usable(RestorationStage cancelAt)
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new RecordingProgress(p =>
        {
            if (p.Stage == cancelAt)
            {
                cancellation.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() =>
            fixture.Identity.Restore(fixture.Photo(Solvay), new RestorationOptions { Upscale = 1 }, progress, cancellation.Token));
        Assert.DoesNotContain(progress.Reports, r => r.Stage > cancelAt);

        var result = fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 1 });
        Assert.Single(result.Faces);
    }

    [AssetFact(YuNet, Astronaut)]
    public void An_already_cancelled_token_throws_before_any_work()
    {
        var progress = new RecordingProgress();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions(), progress, new CancellationToken(canceled: true)));
        Assert.Empty(progress.Reports);
    }

    [AssetFact(YuNet)]
    public void A_webp_result_wider_than_webp_can_store_is_written_as_png_with_a_warning()
    {
        // 8200 px at s = 2 gives 16400 px: WebP keeps 14-bit sizes, so the file would decode 16 px wide. (512 px high, so
        // the photo is not enlarged first.)
        using var wide = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(8200, 512);
        using var encoded = new MemoryStream();
        wide.Save(encoded, new SixLabors.ImageSharp.Formats.Webp.WebpEncoder());

        var result = fixture.Identity.Restore(encoded.ToArray(), new RestorationOptions { Upscale = 2 });

        Assert.Equal(ImageFileFormat.Png, result.Format);
        Assert.Contains(result.Warnings, w => w.Contains("16400×1024") && w.Contains("written as PNG"));
        var header = new ImageDecoder().Inspect(result.Image, new ImageLimits { MaxWidth = 20_000 });
        Assert.Equal((16400, 1024), (header.Width, header.Height));
    }

    [AssetFact(YuNet)]
    public void Garbage_bytes_are_rejected_as_not_decodable()
    {
        var garbage = "this is not a photo, just some text pretending to be one"u8.ToArray();
        var error = Assert.Throws<PhotoRefusedException>(() => fixture.Identity.Restore(garbage, new RestorationOptions()));
        Assert.Equal(ImageRejectionRule.NotDecodable, error.Rule);
        Assert.Equal(RestorationFailureKind.RefusedInput, RestorationFailure.Classify(error));
        Assert.IsType<ImageRejectedException>(error.InnerException);

        // A cut file has its own rule since the hostile-input work (it was NotDecodable).
        var truncated = fixture.Photo(Astronaut)[..4096];
        Assert.Equal(ImageRejectionRule.Truncated,
            Assert.Throws<PhotoRefusedException>(() => fixture.Identity.Restore(truncated, new RestorationOptions())).Rule);
    }

    public static TheoryData<string, RestorationOptions> OutOfRange => new()
    {
        { "Fidelity", new RestorationOptions { Fidelity = 1.5 } },
        { "Fidelity", new RestorationOptions { Fidelity = double.NaN } },
        { "Upscale", new RestorationOptions { Upscale = 0 } },
        { "Upscale", new RestorationOptions { Upscale = 5 } },
        { "MaxFaces", new RestorationOptions { MaxFaces = 0 } },
        { "MinFaceSize", new RestorationOptions { MinFaceSize = -1 } },
        { "JpegQuality", new RestorationOptions { JpegQuality = 101 } },
    };

    [AssetTheory(YuNet, Astronaut)]
    [MemberData(nameof(OutOfRange))]
    public void Options_out_of_range_are_refused_before_any_work(string parameter, RestorationOptions options)
    {
        var progress = new RecordingProgress();
        var error = Assert.Throws<PhotoRefusedException>(() => fixture.Identity.Restore(fixture.Photo(Astronaut), options, progress));
        Assert.Equal(parameter, Assert.IsType<ArgumentOutOfRangeException>(error.InnerException).ParamName);
        Assert.Null(error.Rule);
        Assert.Empty(progress.Reports);
    }

    [AssetFact(YuNet, Astronaut)]
    public void Background_upsampling_without_a_model_is_refused_with_the_reason()
    {
        var progress = new RecordingProgress();
        var error = Assert.Throws<PhotoRefusedException>(() =>
            fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions { BackgroundUpsample = true }, progress));
        Assert.Contains("Real-ESRGAN", error.Message);
        Assert.Empty(progress.Reports);
    }

    [AssetFact(YuNet)]
    public void A_batch_size_below_one_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => fixture.Open(fixture.IdentityModelPath, batchSize: 0, withDetector: false));
        Assert.Contains("BatchSize", error.Message);
    }

    [AssetFact(YuNet, Astronaut)]
    public async Task Every_stage_is_timed_and_outside_network_is_total_minus_restore()
    {
        var result = await fixture.Identity.RestoreAsync(fixture.Photo(Astronaut), new RestorationOptions());

        var timings = result.Timings;
        Assert.Equal(Enum.GetValues<RestorationStage>().Order(), timings.Milliseconds.Keys.Order());
        Assert.All(timings.Milliseconds.Values, ms => Assert.True(ms >= 0 && double.IsFinite(ms), $"stage time {ms} ms"));
        Assert.True(timings.Milliseconds[RestorationStage.Restore] > 0);
        Assert.Equal(timings.Milliseconds.Values.Sum(), timings.Total, 9);
        Assert.Equal(timings.Total - timings.Milliseconds[RestorationStage.Restore], timings.OutsideNetwork, 9);
        Assert.Single(result.Faces);
    }
}
