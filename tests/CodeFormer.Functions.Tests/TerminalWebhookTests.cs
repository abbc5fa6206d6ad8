using System.Globalization;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using CodeFormer.Functions.Api;
using CodeFormer.Functions.Functions;
using CodeFormer.Functions.Intake;
using CodeFormer.Functions.Sweep;
using CodeFormer.Functions.Webhooks;
using CodeFormer.Service.Testing;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Storage;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CodeFormer.Functions.Tests;

/// <summary>
/// Webhooks for the terminal states the GPU worker never sees: a cancelled and an expired job each put one notice on
/// the webhook-notice queue (real Azurite), and the queue-triggered function turns it into exactly one signed call to
/// the tenant's receiver on 127.0.0.1, also when the queue hands the notice out a second time.
/// </summary>
[Collection(ServiceStackCollection.Name)]
public sealed class TerminalWebhookTests(ServiceStack stack)
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>The Functions app's pieces over a fresh table (the sweep reads every due entry of it), queue and clock.</summary>
    private sealed record Rig(ManualClock Clock, JobStore Jobs, CreatedTenant Tenant, JobsApi Api, OverdueUploadSweeper Sweeper,
        QueueClient Notices, DeliverTerminalWebhook Function)
    {
        public ApiRequest Request(string? body = null) => new() { Authorization = "Bearer " + Tenant.ApiKey, Body = body is null ? null : BinaryData.FromString(body) };

        public async Task<CreatedJob> CreateJobAsync(string? webhookUrl)
        {
            var response = await Api.CreateAsync(Request(webhookUrl is null ? null : $$"""{"webhookUrl":"{{webhookUrl}}"}"""));
            Assert.Equal(201, response.Status);
            return JsonSerializer.Deserialize(response.Body, ApiJsonContext.Default.CreatedJob)!;
        }
    }

    private async Task<Rig> NewRigAsync()
    {
        var table = stack.Azurite.CreateTableServiceClient().GetTableClient("hooks" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateAsync();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var jobs = new JobStore(table, clock);
        var tenants = new TenantStore(table, clock);
        var settings = Options.Create(new JobsSettings { UploadGraceSeconds = (int)Grace.TotalSeconds });
        // The receiver listens on 127.0.0.1: allowed here as Webhooks__allowPrivateAddresses allows it for developers.
        var policy = new WebhookUrlPolicy(allowPrivateAddresses: true);
        var notices = await stack.NewWebhookNoticeQueueAsync();
        var noticeQueue = new TerminalWebhookQueue(notices);
        var intake = new UploadIntakeHandler(stack.Blobs, jobs, tenants, stack.ServiceBus.CreateSender(settings.Value.QueueName), stack.Events,
            policy, settings, clock);
        var notifier = new WebhookNotifier(new HttpClient(WebhookNotifier.CreateHandler(allowPrivateAddresses: true)), tenants, policy,
            WebhookRetryRules.Default with { RetryDelay = TimeSpan.FromMilliseconds(20) }, TimeProvider.System, NullLogger<WebhookNotifier>.Instance);
        return new Rig(
            clock,
            jobs,
            await tenants.CreateAsync("t" + Guid.NewGuid().ToString("N")[..12]),
            new JobsApi(jobs, tenants, new BlobSasIssuer(stack.Blobs, clock), stack.Events, noticeQueue, policy, settings, clock),
            new OverdueUploadSweeper(jobs, stack.Blobs, intake, stack.Events, noticeQueue, settings, clock),
            notices,
            new DeliverTerminalWebhook(new TerminalWebhookSender(jobs, notifier)));
    }

    /// <summary>Hands out every visible notice once, as the queue trigger does, leaving each invisible for <paramref name="invisibleFor"/>.</summary>
    private static async Task<QueueMessage[]> ReceiveAllAsync(QueueClient queue, TimeSpan invisibleFor)
    {
        QueueMessage[] messages = await queue.ReceiveMessagesAsync(maxMessages: 32, visibilityTimeout: invisibleFor);
        return messages;
    }

    private static void AssertSignedBy(CreatedTenant tenant, ReceivedWebhook call, string jobId, JobEventKind kind, JobState state)
    {
        Assert.Equal($"{jobId}.{kind.ToString().ToLowerInvariant()}", call.Headers[WebhookSigner.IdHeader]);
        var timestamp = DateTimeOffset.FromUnixTimeSeconds(long.Parse(call.Headers[WebhookSigner.TimestampHeader], CultureInfo.InvariantCulture));
        Assert.True(WebhookSigner.Verify(tenant.WebhookSecret, call.Headers[WebhookSigner.IdHeader], timestamp, call.Body, call.Headers[WebhookSigner.SignatureHeader]),
            "the webhook's signature does not verify with the tenant's secret");
        using var body = JsonDocument.Parse(call.Body);
        Assert.Equal(JobEvents.TypeOf(kind), body.RootElement.GetProperty("type").GetString());
        Assert.Equal(jobId, body.RootElement.GetProperty("data").GetProperty("jobId").GetString());
        Assert.Equal(state.ToString(), body.RootElement.GetProperty("data").GetProperty("state").GetString());
    }

    [Fact]
    public async Task An_expired_job_gets_exactly_one_signed_expired_webhook()
    {
        var rig = await NewRigAsync();
        await using var hook = new WebhookReceiver();
        var created = await rig.CreateJobAsync(hook.Url);
        rig.Clock.Now = created.UploadExpiresAt + Grace + TimeSpan.FromSeconds(1);

        Assert.Equal(1, (await rig.Sweeper.SweepAsync()).Expired);
        Assert.Equal(0, (await rig.Sweeper.SweepAsync()).Examined); // a second sweep finds nothing left to do

        var notice = Assert.Single(await ReceiveAllAsync(rig.Notices, TimeSpan.FromMinutes(1)));
        await rig.Function.RunAsync(notice, CancellationToken.None);
        await rig.Notices.DeleteMessageAsync(notice.MessageId, notice.PopReceipt); // the host deletes it when the function returns

        AssertSignedBy(rig.Tenant, Assert.Single(hook.Calls), created.Job.JobId, JobEventKind.Expired, JobState.Expired);
        Assert.Empty(await ReceiveAllAsync(rig.Notices, TimeSpan.FromSeconds(1)));
        Assert.Equal(JobEvents.TypeOf(JobEventKind.Expired), Assert.Single(stack.EventsFor(created.Job.JobId)).Type);
    }

    [Fact]
    public async Task A_cancelled_job_gets_exactly_one_signed_cancelled_webhook_even_when_the_notice_is_handed_out_again()
    {
        var rig = await NewRigAsync();
        await using var hook = new WebhookReceiver();
        var created = await rig.CreateJobAsync(hook.Url);

        Assert.Equal(200, (await rig.Api.CancelAsync(rig.Request(), created.Job.JobId)).Status);
        Assert.Equal(200, (await rig.Api.CancelAsync(rig.Request(), created.Job.JobId)).Status); // a retried DELETE queues nothing

        // The first run "dies" after calling: its message is not deleted and comes back once its invisibility ends.
        var first = Assert.Single(await ReceiveAllAsync(rig.Notices, TimeSpan.FromSeconds(1)));
        Assert.Equal(1, first.DequeueCount);
        await rig.Function.RunAsync(first, CancellationToken.None);
        QueueMessage[] again = [];
        for (var tries = 0; again.Length == 0 && tries < 50; tries++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200));
            again = await ReceiveAllAsync(rig.Notices, TimeSpan.FromMinutes(1));
        }
        var second = Assert.Single(again);
        Assert.Equal(2, second.DequeueCount);
        await rig.Function.RunAsync(second, CancellationToken.None);

        AssertSignedBy(rig.Tenant, Assert.Single(hook.Calls), created.Job.JobId, JobEventKind.Cancelled, JobState.Cancelled);
        Assert.Equal(JobEvents.TypeOf(JobEventKind.Cancelled), Assert.Single(stack.EventsFor(created.Job.JobId)).Type);
    }

    [Fact]
    public async Task Jobs_without_a_webhook_queue_no_notice_when_cancelled_or_expired()
    {
        var rig = await NewRigAsync();
        var expiring = await rig.CreateJobAsync(webhookUrl: null);
        var cancelled = await rig.CreateJobAsync(webhookUrl: null);

        Assert.Equal(200, (await rig.Api.CancelAsync(rig.Request(), cancelled.Job.JobId)).Status);
        rig.Clock.Now = expiring.UploadExpiresAt + Grace + TimeSpan.FromSeconds(1);
        Assert.Equal(1, (await rig.Sweeper.SweepAsync()).Expired);

        Assert.Empty(await ReceiveAllAsync(rig.Notices, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_notice_that_is_not_one_is_dropped_with_the_reason_and_calls_nothing()
    {
        var rig = await NewRigAsync();
        var sender = new TerminalWebhookSender(rig.Jobs, new WebhookNotifier(new HttpClient(), new TenantStore(stack.Table), new WebhookUrlPolicy(),
            WebhookRetryRules.Default, TimeProvider.System, NullLogger<WebhookNotifier>.Instance));

        Assert.Equal(TerminalWebhookOutcome.Invalid, await sender.SendAsync("{not json", dequeueCount: 1));
        Assert.Equal(TerminalWebhookOutcome.Invalid, await sender.SendAsync("""{"tenantId":"t","jobId":"j","kind":"Succeeded"}""", dequeueCount: 1));
        Assert.Equal(TerminalWebhookOutcome.SkippedNothingToSend, await sender.SendAsync("""{"tenantId":"t","jobId":"nope","kind":"Cancelled"}""", dequeueCount: 1));
        var error = Assert.Throws<FormatException>(() => TerminalWebhookNotice.Parse("""{"tenantId":"t","kind":"Expired"}"""));
        Assert.Contains("jobId", error.Message, StringComparison.Ordinal);
    }
}
