using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Serialization;
using CodeFormer.Shared.Tenants;
using Microsoft.Extensions.Logging;

namespace CodeFormer.Shared.Webhooks;

/// <summary>
/// Calls a job's webhook once it is terminal (succeeded and failed from the GPU worker; cancelled and expired from the
/// Functions app, through <see cref="TerminalWebhookNotice"/>), signed per Standard Webhooks with the tenant's secret: headers webhook-id
/// (the event id "{jobId}.{kind}", the same on every retry so the receiver can drop repeats), webhook-timestamp and
/// webhook-signature; body {"type", "timestamp", "data"}. Retried with doubling backoff on network errors, timeouts,
/// 408, 429 and 5xx, at most <see cref="WebhookRetryRules.Attempts"/> times; other answers end it. The URL rules of
/// part 1 are checked again right before each call, and the connection itself goes only to an address that passes them
/// (DNS can change between the check and the connect). A webhook that cannot be delivered never fails the job.
/// </summary>
public sealed class WebhookNotifier(HttpClient http, TenantStore tenants, WebhookUrlPolicy policy, WebhookRetryRules rules,
    TimeProvider time, ILogger<WebhookNotifier> logger)
{
    public const string HttpClientName = "webhooks";

    /// <summary>Delivers the notice; true when the receiver answered 2xx.</summary>
    public async Task<bool> NotifyAsync(JobEventKind kind, JobRecord job, CancellationToken cancellationToken)
    {
        if (job.Options.WebhookUrl is not { Length: > 0 } url)
        {
            return false;
        }
        var secret = await tenants.GetWebhookSecretAsync(job.TenantId, cancellationToken).ConfigureAwait(false);
        if (secret is null)
        {
            logger.LogWarning("Webhook for job {JobId} not sent: tenant {TenantId} has no webhook secret", job.JobId, job.TenantId);
            return false;
        }
        var messageId = $"{job.JobId}.{kind.ToString().ToLowerInvariant()}";
        var body = Body(kind, job, time.GetUtcNow());
        var delay = rules.RetryDelay;
        for (var attempt = 1; attempt <= rules.Attempts; attempt++)
        {
            if (await policy.CheckAsync(url, cancellationToken).ConfigureAwait(false) is { } refusal)
            {
                logger.LogWarning("Webhook for job {JobId} not sent: {Refusal}", job.JobId, refusal);
                return false;
            }
            var retry = await TryOnceAsync(url, secret, messageId, body, job.JobId, attempt, cancellationToken).ConfigureAwait(false);
            if (retry is null)
            {
                return true;
            }
            if (retry is false || attempt == rules.Attempts)
            {
                break;
            }
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay *= 2;
        }
        logger.LogWarning("Webhook for job {JobId} was not delivered after at most {Attempts} attempts", job.JobId, rules.Attempts);
        return false;
    }

    /// <summary>Null: delivered. True: worth retrying. False: refused for good.</summary>
    private async Task<bool?> TryOnceAsync(string url, string secret, string messageId, string body, string jobId, int attempt, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in WebhookSigner.Headers(secret, messageId, time.GetUtcNow(), body))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(rules.Timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                logger.LogInformation("Webhook for job {JobId} delivered (attempt {Attempt}, HTTP {Status})", jobId, attempt, (int)response.StatusCode);
                return null;
            }
            var status = (int)response.StatusCode;
            logger.LogWarning("Webhook for job {JobId} answered HTTP {Status} (attempt {Attempt})", jobId, status, attempt);
            return status is 408 or 429 or >= 500;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // A network error, or our own timeout (not the caller's cancellation, which propagates).
            logger.LogWarning("Webhook for job {JobId} failed (attempt {Attempt}): {Error}", jobId, attempt, e.Message);
            return true;
        }
    }

    /// <summary>The Standard Webhooks payload shape: type, timestamp, and the job event's data.</summary>
    public static string Body(JobEventKind kind, JobRecord job, DateTimeOffset timestamp)
    {
        var data = JobEvents.ReadData(JobEvents.Create(kind, job));
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", JobEvents.TypeOf(kind));
            writer.WriteString("timestamp", timestamp);
            writer.WritePropertyName("data");
            JsonSerializer.Serialize(writer, data, SharedJsonContext.Default.JobEventData);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// The handler behind the webhook client: no redirects (a 30x could point anywhere), and a connect step that resolves
    /// the host itself and connects only when every address it resolves to is public (unless private targets are allowed
    /// for development), so a DNS answer that changed after the URL check cannot aim the call at an internal address.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(bool allowPrivateAddresses) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            if (!allowPrivateAddresses && addresses.FirstOrDefault(a => !WebhookUrlPolicy.IsPublic(a)) is { } forbidden)
            {
                throw new HttpRequestException($"The webhook host '{host}' now resolves to {forbidden}, which is not a public address; not connecting.");
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
