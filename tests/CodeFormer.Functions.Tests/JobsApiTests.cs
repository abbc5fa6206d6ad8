using System.Net;
using System.Text.Json;
using System.Web;
using Azure;
using Azure.Storage.Blobs;
using CodeFormer.Functions.Api;
using CodeFormer.Functions.Intake;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.Functions.Tests;

/// <summary>The HTTP API's handlers on real Azurite (table, SAS) and the broker, driven as the function adapters drive them.</summary>
[Collection(ServiceStackCollection.Name)]
public sealed class JobsApiTests(ServiceStack stack)
{
    private static ApiRequest As(string apiKey, string? body = null, string? idempotencyKey = null) => new()
    {
        Authorization = "Bearer " + apiKey,
        IdempotencyKey = idempotencyKey,
        Body = body is null ? null : BinaryData.FromString(body),
    };

    private static T Read<T>(ApiResponse response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(response.Body, type)!;

    private static ProblemDetails Problem(ApiResponse response)
    {
        Assert.StartsWith("application/problem+json", response.ContentType);
        return Read(response, ApiJsonContext.Default.ProblemDetails);
    }

    [AssetFact(TestImages.Photo)]
    public async Task Create_then_upload_through_the_sas_url_then_the_status_shows_the_job_queued()
    {
        var tenant = await stack.NewTenantAsync();
        var api = stack.Api();

        var created = await api.CreateAsync(As(tenant.ApiKey, """{"fidelity":0.3,"upscale":1}"""));
        Assert.Equal(201, created.Status);
        var body = Read(created, ApiJsonContext.Default.CreatedJob);
        Assert.Equal(JobState.AwaitingUpload, body.Job.State);
        Assert.Equal($"/api/jobs/{body.Job.JobId}", created.Headers!["Location"]);
        var awaiting = Read(await api.GetAsync(As(tenant.ApiKey), body.Job.JobId), ApiJsonContext.Default.JobView);
        Assert.Equal(JobState.AwaitingUpload, awaiting.State);

        // The client uploads with nothing but the URL.
        await new BlobClient(body.UploadUrl).UploadAsync(BinaryData.FromBytes(TestImages.Read(TestImages.Photo)));
        // Event Grid would now deliver BlobCreated for that blob to EnqueueUploadedPhoto.
        var uploadedName = new BlobUriBuilder(body.UploadUrl).BlobName;
        var intake = await stack.Intake().HandleAsync(uploadedName);
        Assert.Equal(IntakeOutcome.Queued, intake.Outcome);
        Assert.Equal(body.Job.JobId, intake.JobId); // attached to THAT job, not a second one

        var status = await api.GetAsync(As(tenant.ApiKey), body.Job.JobId);
        Assert.Equal(200, status.Status);
        var view = Read(status, ApiJsonContext.Default.JobView);
        Assert.Equal(JobState.Queued, view.State);
        Assert.Equal((517, 606), (view.InputWidth!.Value, view.InputHeight!.Value));
        Assert.Equal(0.3, view.Options.Fidelity);
        var message = Assert.Single(await stack.PeekMessagesForAsync(body.Job.JobId));
        Assert.Equal(1, RestoreJobMessage.Parse(message.Body, message.MessageId).Options.Upscale);

        // Not finished yet: the result is 409.
        var result = await api.GetResultAsync(As(tenant.ApiKey), body.Job.JobId);
        Assert.Equal(409, result.Status);
        Assert.Contains("Queued", Problem(result).Detail);
    }

    [Fact]
    public async Task An_upload_sas_url_never_outlives_fifteen_minutes_and_writes_only_its_blob()
    {
        var tenant = await stack.NewTenantAsync();
        var body = Read(await stack.Api().CreateAsync(As(tenant.ApiKey)), ApiJsonContext.Default.CreatedJob);
        var query = HttpUtility.ParseQueryString(body.UploadUrl.Query);
        var expiry = DateTimeOffset.Parse(query["se"]!);
        Assert.Equal(expiry, body.UploadExpiresAt);
        Assert.True(expiry - DateTimeOffset.UtcNow <= TimeSpan.FromMinutes(15), $"expires {expiry:O}");
        Assert.Equal("b", query["sr"]);            // one blob
        Assert.Equal("cw", query["sp"]);           // create + write, no read/list/delete
        var other = new BlobUriBuilder(body.UploadUrl) { BlobName = $"{tenant.Tenant.TenantId}/something-else.jpg" }.ToUri();
        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => new BlobClient(other).UploadAsync(BinaryData.FromString("x")));
        Assert.Equal(403, refused.Status);
    }

    [Fact]
    public async Task A_result_url_of_a_succeeded_job_reads_for_at_most_fifteen_minutes()
    {
        var tenant = await stack.NewTenantAsync();
        var tenantId = tenant.Tenant.TenantId;
        var (job, _) = await stack.Jobs.CreateAwaitingUploadAsync(tenantId, new JobOptions(), "uploads", id => $"{tenantId}/api-{id}", null);
        job = await stack.Jobs.AttachUploadAsync(job, "Jpeg", 10, 10, 100);
        job = await stack.Jobs.MarkRunningAsync(job);
        await stack.Results.GetBlobClient($"{tenantId}/{job.JobId}.jpg").UploadAsync(BinaryData.FromString("restored"));
        await stack.Results.GetBlobClient($"{tenantId}/{job.JobId}.json").UploadAsync(BinaryData.FromString("{}"));
        await stack.Jobs.SucceedAsync(job, new JobUsage { InputMegapixels = 0.0001, Faces = 1, NetworkMilliseconds = 5, Device = "cpu", OutputBytes = 8 },
            $"{tenantId}/{job.JobId}.jpg", $"{tenantId}/{job.JobId}.json");

        var response = await stack.Api().GetResultAsync(As(tenant.ApiKey), job.JobId);
        Assert.Equal(200, response.Status);
        var result = Read(response, ApiJsonContext.Default.JobResult);
        Assert.True(result.ExpiresAt - DateTimeOffset.UtcNow <= TimeSpan.FromMinutes(15));
        Assert.Equal("r", HttpUtility.ParseQueryString(result.ResultUrl.Query)["sp"]);
        Assert.Equal("restored", (await new BlobClient(result.ResultUrl).DownloadContentAsync()).Value.Content.ToString());

        var usage = Read(await stack.Api().GetUsageAsync(As(tenant.ApiKey), DateTimeOffset.UtcNow.ToString("yyyy-MM")), ApiJsonContext.Default.MonthlyUsage);
        Assert.Equal((1, 1, 8L), (usage.Jobs, usage.Faces, usage.OutputBytes));
    }

    [Fact]
    public async Task Tenant_a_gets_404_for_tenant_b_s_job_result_and_cancel_and_sees_only_its_own_usage()
    {
        var a = await stack.NewTenantAsync();
        var b = await stack.NewTenantAsync();
        var api = stack.Api();
        var bJob = Read(await api.CreateAsync(As(b.ApiKey)), ApiJsonContext.Default.CreatedJob).Job.JobId;

        Assert.Equal(404, (await api.GetAsync(As(a.ApiKey), bJob)).Status);
        Assert.Equal(404, (await api.GetResultAsync(As(a.ApiKey), bJob)).Status);
        Assert.Equal(404, (await api.CancelAsync(As(a.ApiKey), bJob)).Status);
        Assert.Equal("Job not found", Problem(await api.GetAsync(As(a.ApiKey), bJob)).Title);
        Assert.Equal(200, (await api.GetAsync(As(b.ApiKey), bJob)).Status);
        Assert.Equal(JobState.AwaitingUpload, (await stack.Jobs.GetAsync(b.Tenant.TenantId, bJob))!.State); // A's cancel did nothing

        var usage = Read(await api.GetUsageAsync(As(a.ApiKey), null), ApiJsonContext.Default.MonthlyUsage);
        Assert.Equal(0, usage.Jobs);
    }

    [Fact]
    public async Task A_bad_or_missing_or_revoked_key_is_401()
    {
        var tenant = await stack.NewTenantAsync();
        var api = stack.Api();
        foreach (var request in new[]
        {
            new ApiRequest(),
            new ApiRequest { Authorization = "Bearer cfk_nobody_abc" },
            new ApiRequest { Authorization = "Basic " + tenant.ApiKey },
            As(tenant.ApiKey + "x"),
        })
        {
            var response = await api.CreateAsync(request);
            Assert.Equal(401, response.Status);
            Assert.Equal("Bearer", response.Headers!["WWW-Authenticate"]);
            Assert.Equal(401, Problem(response).Status);
        }
        Assert.Equal(201, (await api.CreateAsync(As(tenant.ApiKey))).Status);
        await stack.Tenants.RevokeAsync(tenant.Tenant.TenantId);
        Assert.Equal(401, (await api.CreateAsync(As(tenant.ApiKey))).Status);
        Assert.Equal(401, (await api.GetUsageAsync(As(tenant.ApiKey), null)).Status);
    }

    [Fact]
    public async Task An_idempotency_key_replay_returns_the_same_job()
    {
        var tenant = await stack.NewTenantAsync();
        var api = stack.Api();
        var first = await api.CreateAsync(As(tenant.ApiKey, """{"upscale":4}""", "order-42"));
        var replay = await api.CreateAsync(As(tenant.ApiKey, """{"upscale":4}""", "order-42"));
        var other = await api.CreateAsync(As(tenant.ApiKey, """{"upscale":4}""", "order-43"));
        Assert.Equal((201, 201), (first.Status, replay.Status));
        var firstJob = Read(first, ApiJsonContext.Default.CreatedJob).Job.JobId;
        Assert.Equal(firstJob, Read(replay, ApiJsonContext.Default.CreatedJob).Job.JobId);
        Assert.Equal("true", replay.Headers!["Idempotent-Replayed"]);
        Assert.NotEqual(firstJob, Read(other, ApiJsonContext.Default.CreatedJob).Job.JobId);
    }

    [AssetFact(TestImages.Photo)]
    public async Task Cancel_before_start_cancels_and_a_later_upload_enqueues_nothing()
    {
        var tenant = await stack.NewTenantAsync();
        var api = stack.Api();
        var created = Read(await api.CreateAsync(As(tenant.ApiKey)), ApiJsonContext.Default.CreatedJob);

        var cancel = await api.CancelAsync(As(tenant.ApiKey), created.Job.JobId);
        Assert.Equal(200, cancel.Status);
        Assert.Equal(JobState.Cancelled, Read(cancel, ApiJsonContext.Default.JobView).State);
        Assert.Equal(JobEvents.TypeOf(JobEventKind.Cancelled), Assert.Single(stack.EventsFor(created.Job.JobId)).Type);
        Assert.Equal(200, (await api.CancelAsync(As(tenant.ApiKey), created.Job.JobId)).Status); // idempotent

        await new BlobClient(created.UploadUrl).UploadAsync(BinaryData.FromBytes(TestImages.Read(TestImages.Photo)));
        var intake = await stack.Intake().HandleAsync(new BlobUriBuilder(created.UploadUrl).BlobName);
        Assert.Equal(IntakeOutcome.Ignored, intake.Outcome);
        Assert.Empty(await stack.PeekMessagesForAsync(created.Job.JobId));
        Assert.Equal(409, (await api.GetResultAsync(As(tenant.ApiKey), created.Job.JobId)).Status);
    }

    [Fact]
    public async Task A_running_job_cannot_be_cancelled()
    {
        var tenant = await stack.NewTenantAsync();
        var tenantId = tenant.Tenant.TenantId;
        var (job, _) = await stack.Jobs.CreateAwaitingUploadAsync(tenantId, new JobOptions(), "uploads", id => $"{tenantId}/api-{id}", null);
        job = await stack.Jobs.MarkRunningAsync(await stack.Jobs.AttachUploadAsync(job, "Png", 1, 1, 1));
        var response = await stack.Api().CancelAsync(As(tenant.ApiKey), job.JobId);
        Assert.Equal(409, response.Status);
        Assert.Contains("Running", Problem(response).Detail);
    }

    [Theory]
    [InlineData("https://127.0.0.1/hook")]
    [InlineData("https://10.0.0.5/hook")]
    [InlineData("https://169.254.169.254/metadata")]
    [InlineData("http://example.com/hook")]
    public async Task Webhook_urls_to_loopback_private_metadata_or_plain_http_are_refused(string url)
    {
        var tenant = await stack.NewTenantAsync();
        var response = await stack.Api().CreateAsync(As(tenant.ApiKey, $$"""{"webhookUrl":"{{url}}"}"""));
        Assert.Equal(400, response.Status);
        var problem = Problem(response);
        Assert.Equal("webhookUrl", Assert.Single(problem.Errors!).Field);
    }

    [Fact]
    public async Task Invalid_options_are_a_problem_naming_each_field()
    {
        var tenant = await stack.NewTenantAsync();
        var response = await stack.Api().CreateAsync(As(tenant.ApiKey, """{"fidelity":3,"upscale":0}"""));
        Assert.Equal(400, response.Status);
        Assert.Equal(["fidelity", "upscale"], Problem(response).Errors!.Select(e => e.Field));
        var notJson = await stack.Api().CreateAsync(As(tenant.ApiKey, "fidelity=3"));
        Assert.Equal(400, notJson.Status);
        Assert.Equal(400, (await stack.Api().GetUsageAsync(As(tenant.ApiKey), "2026-13")).Status);
    }

    [Fact]
    public async Task A_misspelt_unknown_or_non_numeric_option_is_a_400_naming_it_never_a_job_with_the_default()
    {
        var tenant = await stack.NewTenantAsync();
        var api = stack.Api();

        var misspelt = await api.CreateAsync(As(tenant.ApiKey, """{"fidelty":0.9}"""));
        Assert.Equal(400, misspelt.Status);
        Assert.Contains("fidelty", Problem(misspelt).Detail, StringComparison.Ordinal);
        foreach (var body in new[] { """{"fidelity":"NaN"}""", """{"fidelity":NaN}""", """{"fidelity":1e400}""", """{"fidelity":-0.0001}""", """[]""", "null" })
        {
            var response = await api.CreateAsync(As(tenant.ApiKey, body));
            Assert.True(response.Status == 400, $"{body} → {response.Status}");
        }
        var webhookTooLong = await api.CreateAsync(As(tenant.ApiKey, $$"""{"webhookUrl":"https://example.com/{{new string('a', 5000)}}"}"""));
        Assert.Equal("webhookUrl", Assert.Single(Problem(webhookTooLong).Errors!).Field);
        Assert.Equal(413, (await api.CreateAsync(new ApiRequest { Authorization = "Bearer " + tenant.ApiKey, BodyTooLarge = true })).Status);
    }

    [Fact]
    public async Task A_task_the_contract_does_not_know_or_whose_rules_fail_is_a_problem_naming_it()
    {
        var tenant = await stack.NewTenantAsync();
        var unknown = await stack.Api().CreateAsync(As(tenant.ApiKey, """{"task":"sharpen"}"""));
        Assert.Equal(400, unknown.Status);
        Assert.Contains("$.task", Problem(unknown).Detail);

        var inpaint = await stack.Api().CreateAsync(As(tenant.ApiKey, """{"task":"inpaint","maxFaces":2}"""));
        Assert.Equal(400, inpaint.Status);
        Assert.Equal(["aligned", "task"], Problem(inpaint).Errors!.Select(e => e.Field).Order());

        var colorize = await stack.Api().CreateAsync(As(tenant.ApiKey, """{"task":"colorize","aligned":true}"""));
        Assert.Equal(201, colorize.Status);
    }

    [Fact]
    public async Task The_admin_api_creates_a_tenant_whose_key_works_once_shown()
    {
        var id = "admin-" + Guid.NewGuid().ToString("N")[..8];
        var response = await stack.Admin().CreateTenantAsync(BinaryData.FromString($$"""{"tenantId":"{{id}}","displayName":"Admin Test"}"""));
        Assert.Equal(201, response.Status);
        var created = Read(response, ApiJsonContext.Default.CreatedTenantResponse);
        Assert.Equal(201, (await stack.Api().CreateAsync(As(created.ApiKey))).Status);
        Assert.Equal(409, (await stack.Admin().CreateTenantAsync(BinaryData.FromString($$"""{"tenantId":"{{id}}"}"""))).Status);
        Assert.Equal(400, (await stack.Admin().CreateTenantAsync(BinaryData.FromString("""{"tenantId":"Bad/Id"}"""))).Status);
        Assert.Equal(400, (await stack.Admin().CreateTenantAsync(BinaryData.FromString("""{"displayName":"no id"}"""))).Status);
    }
}

/// <summary>A job whose photo never arrives: visible as overdue once its upload URL expired.</summary>
[Collection(ServiceStackCollection.Name)]
public sealed class UploadWindowTests(ServiceStack stack)
{
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task A_job_whose_upload_never_arrives_shows_as_overdue_after_its_upload_url_expired()
    {
        var tenant = await stack.NewTenantAsync();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var api = new JobsApi(new Shared.Jobs.JobStore(stack.Table, clock), stack.Tenants, new Shared.Storage.BlobSasIssuer(stack.Blobs, clock),
            stack.Events, new Webhooks.TerminalWebhookQueue(stack.WebhookNoticeQueue), new Shared.Webhooks.WebhookUrlPolicy(), Microsoft.Extensions.Options.Options.Create(stack.Settings), clock);
        var request = new ApiRequest { Authorization = "Bearer " + tenant.ApiKey, IdempotencyKey = "late-upload" };
        var created = System.Text.Json.JsonSerializer.Deserialize((await api.CreateAsync(request)).Body, ApiJsonContext.Default.CreatedJob)!;
        Assert.False(created.Job.UploadOverdue);
        Assert.Equal(created.UploadExpiresAt, created.Job.UploadExpiresAt);

        clock.Now += TimeSpan.FromMinutes(16);
        var view = System.Text.Json.JsonSerializer.Deserialize((await api.GetAsync(request, created.Job.JobId)).Body, ApiJsonContext.Default.JobView)!;
        Assert.Equal(JobState.AwaitingUpload, view.State);
        Assert.True(view.UploadOverdue);

        // Asking again with the same Idempotency-Key gives the same job a fresh 15-minute window.
        var replay = System.Text.Json.JsonSerializer.Deserialize((await api.CreateAsync(request)).Body, ApiJsonContext.Default.CreatedJob)!;
        Assert.Equal(created.Job.JobId, replay.Job.JobId);
        Assert.False(replay.Job.UploadOverdue);
        Assert.True(replay.UploadExpiresAt > clock.Now + TimeSpan.FromMinutes(14));
    }
}
