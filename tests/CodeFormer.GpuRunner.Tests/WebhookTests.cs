using CodeFormer.GpuRunner.Settings;
using CodeFormer.GpuRunner.Testing;
using CodeFormer.Service.Testing;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using CodeFormer.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CodeFormer.GpuRunner.Tests;

/// <summary>Webhook calls: retried with backoff and bounded, the same id on every try, and the address rules checked at call time.</summary>
[Collection(WorkerCollection.Name)]
public sealed class WebhookTests(StackFixture fixture)
{
    [AssetFact(StackFixture.YuNet)]
    public async Task Failing_receiver_is_retried_with_the_same_id_until_it_answers_2xx()
    {
        var lane = await fixture.LaneAsync();
        await using var hook = new WebhookReceiver { Status = n => n < 3 ? 503 : 204 };
        var notifier = Notifier(lane, allowPrivateAddresses: true);

        var delivered = await notifier.NotifyAsync(JobEventKind.Succeeded, Job(lane, hook.Url), CancellationToken.None);

        Assert.True(delivered);
        Assert.Equal(3, hook.Calls.Count);
        Assert.All(hook.Calls, call => Assert.Equal("0123456789abcdef0123456789abcdef.succeeded", call.Headers["webhook-id"]));
        Assert.All(hook.Calls, call => Assert.True(WebhookSigner.Verify(lane.WebhookSecret, call.Headers["webhook-id"],
            DateTimeOffset.FromUnixTimeSeconds(long.Parse(call.Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture)), call.Body, call.Headers["webhook-signature"])));
    }

    [AssetFact(StackFixture.YuNet)]
    public async Task Receiver_that_keeps_failing_gets_a_bounded_number_of_tries_and_a_4xx_ends_them_at_once()
    {
        var lane = await fixture.LaneAsync();
        await using var broken = new WebhookReceiver { Status = _ => 500 };
        await using var refusing = new WebhookReceiver { Status = _ => 410 };
        var notifier = Notifier(lane, allowPrivateAddresses: true);

        Assert.False(await notifier.NotifyAsync(JobEventKind.Failed, Job(lane, broken.Url), CancellationToken.None));
        Assert.False(await notifier.NotifyAsync(JobEventKind.Failed, Job(lane, refusing.Url), CancellationToken.None));

        Assert.Equal(4, broken.Calls.Count);
        Assert.Single(refusing.Calls);
    }

    [AssetFact(StackFixture.YuNet)]
    public async Task Loopback_target_is_refused_at_call_time_when_private_addresses_are_not_allowed()
    {
        var lane = await fixture.LaneAsync();
        await using var hook = new WebhookReceiver();
        var notifier = Notifier(lane, allowPrivateAddresses: false);

        Assert.False(await notifier.NotifyAsync(JobEventKind.Succeeded, Job(lane, $"https://localhost:{hook.Port}/hook"), CancellationToken.None));
        Assert.Empty(hook.Calls);

        // The connect step checks the address it actually connects to, whatever the URL check said before.
        using var guarded = new HttpClient(WebhookNotifier.CreateHandler(allowPrivateAddresses: false));
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => guarded.PostAsync(hook.Url, new StringContent("{}")));
        Assert.Contains("not a public address", error.Message, StringComparison.Ordinal);
        Assert.Empty(hook.Calls);
    }

    private static WebhookNotifier Notifier(Lane lane, bool allowPrivateAddresses) => new(
        new HttpClient(WebhookNotifier.CreateHandler(allowPrivateAddresses)),
        new TenantStore(lane.Table),
        new WebhookUrlPolicy(allowPrivateAddresses),
        new WorkerSettings { WebhookAttempts = 4, WebhookRetryDelay = TimeSpan.FromMilliseconds(20) }.WebhookRules,
        TimeProvider.System,
        NullLogger<WebhookNotifier>.Instance);

    private static JobRecord Job(Lane lane, string webhookUrl) => new()
    {
        JobId = "0123456789abcdef0123456789abcdef",
        TenantId = lane.TenantId,
        State = JobState.Succeeded,
        Origin = JobOrigin.Api,
        Options = new JobOptions { WebhookUrl = webhookUrl },
        CreatedAt = DateTimeOffset.UtcNow,
        UpdatedAt = DateTimeOffset.UtcNow,
        InputContainer = "uploads",
        InputBlobName = $"{lane.TenantId}/api-0123456789abcdef0123456789abcdef",
    };
}
