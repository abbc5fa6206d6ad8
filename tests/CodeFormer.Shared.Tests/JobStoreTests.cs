using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Tenants;

namespace CodeFormer.Shared.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class JobStoreTests(AzuriteFixture fixture)
{
    private static JobRecord UploadJob(string tenant = "acme", string name = "acme/photo.jpg", string etag = "\"0x1\"") => new()
    {
        JobId = JobIds.ForUpload("uploads", name, etag),
        TenantId = tenant,
        State = JobState.Queued,
        Origin = JobOrigin.DirectUpload,
        Options = new JobOptions { Fidelity = 0.3 },
        CreatedAt = DateTimeOffset.UtcNow,
        UpdatedAt = DateTimeOffset.UtcNow,
        InputContainer = "uploads",
        InputBlobName = name,
    };

    private static readonly JobUsage Usage = new() { InputMegapixels = 1.2, Faces = 3, NetworkMilliseconds = 450, Device = "cuda", OutputBytes = 123_456 };

    [Fact]
    public async Task Adding_the_same_upload_twice_keeps_one_job()
    {
        var store = new JobStore(await fixture.NewTableAsync());
        var (first, created1) = await store.AddOrGetAsync(UploadJob());
        var (second, created2) = await store.AddOrGetAsync(UploadJob() with { Options = new JobOptions { Fidelity = 0.9 } });
        Assert.True(created1);
        Assert.False(created2);
        Assert.Equal(first.JobId, second.JobId);
        Assert.Equal(0.3, second.Options.Fidelity); // the first write wins; the repeat changed nothing
        var rows = store.Table.QueryAsync<Azure.Data.Tables.TableEntity>().ToBlockingEnumerable().ToList();
        Assert.Single(rows);
    }

    [Fact]
    public async Task A_transition_with_a_stale_etag_loses()
    {
        var store = new JobStore(await fixture.NewTableAsync());
        var (job, _) = await store.AddOrGetAsync(UploadJob());
        var running = await store.MarkRunningAsync(job);
        Assert.Equal(JobState.Running, running.State);
        Assert.Equal(1, running.Attempts);
        Assert.NotEqual(job.ETag, running.ETag);
        // A second worker that read the job before the first one wrote cannot also start it.
        await Assert.ThrowsAsync<JobConcurrencyException>(() => store.MarkRunningAsync(job));
        var stored = await store.GetAsync("acme", job.JobId);
        Assert.Equal(1, stored!.Attempts);
    }

    [Fact]
    public async Task Illegal_transitions_are_refused_before_any_write()
    {
        var store = new JobStore(await fixture.NewTableAsync());
        var (job, _) = await store.AddOrGetAsync(UploadJob());
        var running = await store.MarkRunningAsync(job);
        await Assert.ThrowsAsync<IllegalJobTransitionException>(() => store.CancelAsync(running));
        Assert.Equal(JobState.Running, (await store.GetAsync("acme", job.JobId))!.State);
    }

    [Fact]
    public async Task Usage_is_counted_exactly_once_per_job()
    {
        var store = new JobStore(await fixture.NewTableAsync());
        var (job, _) = await store.AddOrGetAsync(UploadJob());
        var running = await store.MarkRunningAsync(job);
        var done = await store.SucceedAsync(running, Usage, "acme/x.png", "acme/x.json");
        Assert.Equal(JobState.Succeeded, done.State);
        // A retried "succeed" (the worker crashed after writing, the message came back) writes nothing.
        await Assert.ThrowsAsync<JobConcurrencyException>(() => store.SucceedAsync(running, Usage, "acme/x.png", "acme/x.json"));
        await Assert.ThrowsAsync<IllegalJobTransitionException>(() => store.SucceedAsync(done, Usage, "acme/x.png", "acme/x.json"));

        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM");
        var usage = await store.GetMonthlyUsageAsync("acme", month);
        Assert.Equal(1, usage.Jobs);
        Assert.Equal(3, usage.Faces);
        Assert.Equal(123_456, usage.OutputBytes);
        Assert.Equal(0, (await store.GetMonthlyUsageAsync("acme", "1999-01")).Jobs);
        Assert.Equal(Usage, (await store.GetAsync("acme", job.JobId))!.Usage);
    }

    [Fact]
    public async Task An_idempotency_key_replay_returns_the_same_job()
    {
        var store = new JobStore(await fixture.NewTableAsync());
        var (first, created1) = await store.CreateAwaitingUploadAsync("acme", new JobOptions(), "uploads", id => $"acme/api-{id}", "key-1");
        var (second, created2) = await store.CreateAwaitingUploadAsync("acme", new JobOptions(), "uploads", id => $"acme/api-{id}", "key-1");
        var (third, created3) = await store.CreateAwaitingUploadAsync("acme", new JobOptions(), "uploads", id => $"acme/api-{id}", "key-2");
        Assert.True(created1);
        Assert.False(created2);
        Assert.True(created3);
        Assert.Equal(first.JobId, second.JobId);
        Assert.NotEqual(first.JobId, third.JobId);
        Assert.Equal(JobState.AwaitingUpload, second.State);
        // The same key in another tenant is another job.
        var (other, _) = await store.CreateAwaitingUploadAsync("globex", new JobOptions(), "uploads", id => $"globex/api-{id}", "key-1");
        Assert.NotEqual(first.JobId, other.JobId);
    }

    [Fact]
    public async Task A_job_is_not_found_under_another_tenant()
    {
        var store = new JobStore(await fixture.NewTableAsync());
        var (job, _) = await store.AddOrGetAsync(UploadJob());
        Assert.NotNull(await store.GetAsync("acme", job.JobId));
        Assert.Null(await store.GetAsync("globex", job.JobId));
    }

    [Fact]
    public async Task Tenant_keys_authenticate_until_revoked_and_only_their_hash_is_stored()
    {
        var table = await fixture.NewTableAsync();
        var tenants = new TenantStore(table);
        var created = await tenants.CreateAsync("acme", "Acme Corp");
        Assert.StartsWith("cfk_acme_", created.ApiKey);
        Assert.StartsWith("whsec_", created.WebhookSecret);
        Assert.Equal("acme", (await tenants.AuthenticateAsync(created.ApiKey))!.TenantId);
        Assert.Null(await tenants.AuthenticateAsync(created.ApiKey + "x"));
        Assert.Null(await tenants.AuthenticateAsync(created.ApiKey[..^1] + (created.ApiKey[^1] == 'A' ? 'B' : 'A')));
        Assert.Null(await tenants.AuthenticateAsync("cfk_globex_" + created.ApiKey["cfk_acme_".Length..]));
        Assert.Null(await tenants.AuthenticateAsync(null));
        Assert.Null(await tenants.AuthenticateAsync("garbage"));
        Assert.Equal(created.WebhookSecret, await tenants.GetWebhookSecretAsync("acme"));

        var row = (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>("acme", "tenant")).Value;
        Assert.DoesNotContain(row, kv => kv.Value is string s && s.Contains(created.ApiKey["cfk_acme_".Length..]));

        await Assert.ThrowsAsync<TenantExistsException>(() => tenants.CreateAsync("acme"));
        Assert.True(await tenants.RevokeAsync("acme"));
        Assert.Null(await tenants.AuthenticateAsync(created.ApiKey));
    }
}
