using System.Text;
using System.Text.Json;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Serialization;

namespace CodeFormer.Shared.Tests;

/// <summary>The task (restore | colorize | inpaint) as a job option, held to the engine's rules for colorize and inpaint.</summary>
public sealed class JobTaskOptionTests
{
    [Fact]
    public void Task_defaults_to_restore_also_when_the_json_leaves_it_out()
    {
        Assert.Equal(JobTask.Restore, JobOptions.Default.Task);
        var back = JsonSerializer.Deserialize("""{"upscale":1}""", SharedJsonContext.Default.JobOptions)!;
        Assert.Equal(JobTask.Restore, back.Task);
    }

    [Fact]
    public void Task_round_trips_through_the_json_contract_by_name()
    {
        var options = new JobOptions { Task = JobTask.Colorize, Aligned = true };
        var json = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(options, SharedJsonContext.Default.JobOptions));
        Assert.Contains("\"task\":\"Colorize\"", json);
        Assert.Equal(options, JsonSerializer.Deserialize(json, SharedJsonContext.Default.JobOptions));
        var lower = JsonSerializer.Deserialize("""{"task":"inpaint","aligned":true}""", SharedJsonContext.Default.JobOptions)!;
        Assert.Equal(JobTask.Inpaint, lower.Task);
        Assert.Empty(lower.Validate());
    }

    [Fact]
    public void A_task_name_the_contract_does_not_know_is_refused_by_the_json_reader()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"task":"sharpen"}""", SharedJsonContext.Default.JobOptions));
    }

    [Fact]
    public void A_task_number_outside_the_enum_is_refused_by_name()
    {
        var error = Assert.Single(new JobOptions { Task = (JobTask)7 }.Validate());
        Assert.Equal("task", error.Field);
        Assert.Contains("restore, colorize or inpaint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Colorize_takes_an_aligned_crop_or_aligns_the_largest_face_first()
    {
        Assert.Empty(new JobOptions { Task = JobTask.Colorize, Aligned = true }.Validate());
        Assert.Empty(new JobOptions { Task = JobTask.Colorize }.Validate());
    }

    [Fact]
    public void Inpaint_needs_an_aligned_face_because_aligning_would_move_its_mask()
    {
        var error = Assert.Single(new JobOptions { Task = JobTask.Inpaint }.Validate());
        Assert.Equal("aligned", error.Field);
        Assert.Contains("inpaint", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(JobTask.Colorize)]
    [InlineData(JobTask.Inpaint)]
    public void Whole_photo_options_are_refused_for_the_face_tasks_each_by_name(JobTask task)
    {
        var errors = new JobOptions
        {
            Task = task, Aligned = true, BackgroundUpsampler = BackgroundUpsampler.RealEsrgan, FaceUpsample = true,
        }.Validate();
        Assert.Equal(["backgroundUpsampler", "faceUpsample"], errors.Select(e => e.Field));
        Assert.All(errors, e => Assert.Contains(task.ToString().ToLowerInvariant(), e.Message, StringComparison.Ordinal));

        var faces = new JobOptions { Task = task, MaxFaces = 2 }.Validate();
        Assert.Contains(faces, e => e.Field == "task" && e.Message.Contains("maxFaces", StringComparison.Ordinal));
        // The same options are fine for restoration: the refusal is the task's.
        Assert.Empty(new JobOptions { BackgroundUpsampler = BackgroundUpsampler.RealEsrgan, FaceUpsample = true, MaxFaces = 2 }.Validate());
    }

    [Fact]
    public void Fidelity_and_upscale_are_ignored_not_refused_by_the_face_tasks()
    {
        // Their defaults (0.5, 2) cannot be told from values a user sent, so the task's fixed w and 512×512 output win.
        Assert.Empty(new JobOptions { Task = JobTask.Colorize, Fidelity = 0.9, Upscale = 4 }.Validate());
    }

    [Theory]
    [InlineData("restore", JobTask.Restore)]
    [InlineData("Colorize", JobTask.Colorize)]
    [InlineData(" inpaint ", JobTask.Inpaint)]
    public void Blob_metadata_sets_the_task(string value, JobTask expected)
    {
        var options = BlobMetadataOptions.Parse(new Dictionary<string, string> { ["task"] = value, ["aligned"] = "true" });
        Assert.Equal(expected, options.Task);
    }

    [Fact]
    public void Blob_metadata_with_an_unknown_task_is_refused_naming_the_key()
    {
        var error = Assert.Throws<InvalidJobOptionsException>(() => BlobMetadataOptions.Parse(new Dictionary<string, string> { ["task"] = "sharpen" }));
        var only = Assert.Single(error.Errors);
        Assert.Equal("task", only.Field);
        Assert.Contains("'sharpen'", only.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Blob_metadata_for_inpaint_without_aligned_is_refused_by_the_shared_rules()
    {
        var error = Assert.Throws<InvalidJobOptionsException>(() => BlobMetadataOptions.Parse(new Dictionary<string, string> { ["task"] = "inpaint" }));
        Assert.Equal("aligned", Assert.Single(error.Errors).Field);
    }
}
