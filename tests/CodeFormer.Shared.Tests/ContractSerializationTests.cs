using System.Text;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Storage;

namespace CodeFormer.Shared.Tests;

public sealed class ContractSerializationTests
{
    private static JobRecord SampleJob(JobState state = JobState.Queued) => new()
    {
        JobId = JobIds.ForUpload("uploads", "acme/photo.jpg", "\"0x8DC\""),
        TenantId = "acme",
        State = state,
        Origin = JobOrigin.DirectUpload,
        Options = new JobOptions { Fidelity = 0.7, Upscale = 4, Detector = FaceDetectorKind.RetinaFace },
        CreatedAt = DateTimeOffset.Parse("2026-12-01T10:00:00Z"),
        UpdatedAt = DateTimeOffset.Parse("2026-12-01T10:00:01Z"),
        InputContainer = "uploads",
        InputBlobName = "acme/photo.jpg",
    };

    [Fact]
    public void Queue_message_uses_the_job_id_as_message_id_and_round_trips()
    {
        var now = DateTimeOffset.Parse("2026-12-01T10:00:02Z");
        var message = RestoreJobMessage.For(SampleJob(), now);
        var sbMessage = message.ToServiceBusMessage();
        Assert.Equal(message.JobId, sbMessage.MessageId);
        Assert.Equal(RestoreJobMessage.CurrentSchemaVersion, sbMessage.ApplicationProperties["schemaVersion"]);
        var parsed = RestoreJobMessage.Parse(sbMessage.Body, sbMessage.MessageId);
        Assert.Equal(message, parsed);
    }

    [Fact]
    public void Queue_message_with_unknown_fields_is_read()
    {
        var json = $$$"""{"schemaVersion":1,"jobId":"{{{new string('a', 32)}}}","tenantId":"acme","inputContainer":"uploads","inputBlobName":"acme/x.jpg","options":{"fidelity":0.2,"futureOption":true},"addedLater":{"x":1}}""";
        var parsed = RestoreJobMessage.Parse(BinaryData.FromString(json));
        Assert.Equal(0.2, parsed.Options.Fidelity);
    }

    [Fact]
    public void Queue_message_missing_a_required_field_is_refused_by_name()
    {
        var json = """{"schemaVersion":1,"tenantId":"acme","inputContainer":"uploads","inputBlobName":"acme/x.jpg","options":{}}""";
        var error = Assert.Throws<InvalidJobMessageException>(() => RestoreJobMessage.Parse(BinaryData.FromString(json)));
        Assert.Contains("jobId", error.Message);
    }

    [Fact]
    public void Queue_message_of_another_schema_version_is_refused()
    {
        var json = $$$"""{"schemaVersion":2,"jobId":"{{{new string('a', 32)}}}","tenantId":"acme","inputContainer":"uploads","inputBlobName":"acme/x.jpg","options":{}}""";
        var error = Assert.Throws<InvalidJobMessageException>(() => RestoreJobMessage.Parse(BinaryData.FromString(json)));
        Assert.Contains("schema version 2", error.Message);
    }

    [Fact]
    public void Queue_message_whose_message_id_is_not_its_job_id_is_refused()
    {
        var message = RestoreJobMessage.For(SampleJob(), DateTimeOffset.UtcNow).ToServiceBusMessage();
        Assert.Throws<InvalidJobMessageException>(() => RestoreJobMessage.Parse(message.Body, new string('b', 32)));
    }

    [Fact]
    public void Job_options_json_uses_camel_case_and_enum_names()
    {
        var json = Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
            new JobOptions { BackgroundUpsampler = BackgroundUpsampler.RealEsrgan }, Serialization.SharedJsonContext.Default.JobOptions));
        Assert.Contains("\"backgroundUpsampler\":\"RealEsrgan\"", json);
        Assert.DoesNotContain("webhookUrl", json); // nulls are left out
        var back = System.Text.Json.JsonSerializer.Deserialize("""{"backgroundUpsampler":"realesrgan","faceUpsample":true}""", Serialization.SharedJsonContext.Default.JobOptions)!;
        Assert.Equal(BackgroundUpsampler.RealEsrgan, back.BackgroundUpsampler);
    }

    [Theory]
    [InlineData(JobEventKind.Accepted, JobState.Queued)]
    [InlineData(JobEventKind.Rejected, JobState.Rejected)]
    [InlineData(JobEventKind.Succeeded, JobState.Succeeded)]
    [InlineData(JobEventKind.Failed, JobState.Failed)]
    [InlineData(JobEventKind.Cancelled, JobState.Cancelled)]
    [InlineData(JobEventKind.Expired, JobState.Expired)]
    public void Job_events_are_cloud_events_with_the_tenant_subject(JobEventKind kind, JobState state)
    {
        var job = SampleJob(state);
        var cloudEvent = JobEvents.Create(kind, job);
        Assert.Equal($"/tenants/acme/jobs/{job.JobId}", cloudEvent.Subject);
        Assert.Equal($"CodeFormer.Job.{kind}", cloudEvent.Type);
        Assert.Equal(JobEvents.Source, cloudEvent.Source);
        Assert.Equal("application/json", cloudEvent.DataContentType);
        var data = JobEvents.ReadData(cloudEvent);
        Assert.Equal(job.JobId, data.JobId);
        Assert.Equal(state, data.State);
        // The same event on a retry has the same id (subscribers drop repeats).
        Assert.Equal(cloudEvent.Id, JobEvents.Create(kind, job).Id);
    }

    [Fact]
    public void Upload_job_ids_depend_on_container_name_and_version_only()
    {
        var id = JobIds.ForUpload("uploads", "acme/a.jpg", "\"etag1\"");
        Assert.True(JobIds.IsValid(id));
        Assert.Equal(id, JobIds.ForUpload("uploads", "acme/a.jpg", "etag1"));
        Assert.NotEqual(id, JobIds.ForUpload("uploads", "acme/a.jpg", "etag2"));
        Assert.NotEqual(id, JobIds.ForUpload("uploads", "acme/b.jpg", "etag1"));
        Assert.NotEqual(JobIds.ForUpload("a", "b|c", "d"), JobIds.ForUpload("a|b", "c", "d"));
        Assert.NotEqual(JobIds.NewRandom(), JobIds.NewRandom());
    }

    [Fact]
    public void Blob_names_follow_the_tenant_layout()
    {
        var jobId = new string('c', 32);
        Assert.Equal($"acme/api-{jobId}", BlobNaming.ApiUploadBlobName("acme", jobId));
        Assert.Equal($"acme/{jobId}.png", BlobNaming.ResultBlobName("acme", jobId, "png"));
        Assert.Equal($"acme/{jobId}.json", BlobNaming.ReportBlobName("acme", jobId));
        Assert.True(BlobNaming.TryGetApiJobId($"api-{jobId}", out var parsed));
        Assert.Equal(jobId, parsed);
        Assert.False(BlobNaming.TryGetApiJobId("api-notanid", out _));
        Assert.True(BlobNaming.TrySplitUpload("acme/holiday/beach.jpg", out var tenant, out var rest));
        Assert.Equal(("acme", "holiday/beach.jpg"), (tenant, rest));
        Assert.False(BlobNaming.TrySplitUpload("loose.jpg", out _, out _));
        Assert.Throws<ArgumentException>(() => BlobNaming.ResultBlobName("../etc", jobId, "png"));
    }
}
