using System.Text.Json;
using System.Text.Json.Serialization;
using CodeFormer.Shared.Events;

namespace CodeFormer.Functions.Webhooks;

/// <summary>
/// "Call this job's webhook for this terminal state": the message the Functions app puts on the
/// <see cref="QueueName"/> storage queue when a job ends in a state the GPU worker never sees (cancelled, expired).
/// It names the job only; the sender reads the job row itself, so the queue never carries a webhook URL.
/// </summary>
public sealed record TerminalWebhookNotice
{
    /// <summary>In the data account; declared in infra/bicep/modules/storage.bicep, the Functions app's queue role is scoped to it.</summary>
    public const string QueueName = "webhook-notices";

    [JsonRequired]
    public required string TenantId { get; init; }
    [JsonRequired]
    public required string JobId { get; init; }
    [JsonRequired]
    public required JobEventKind Kind { get; init; }

    /// <summary>The states this notice exists for; succeeded and failed are called by the worker that decided them.</summary>
    public static bool IsNoticeKind(JobEventKind kind) => kind is JobEventKind.Cancelled or JobEventKind.Expired;

    public string ToJson() => JsonSerializer.Serialize(this, WebhookNoticeJsonContext.Default.TerminalWebhookNotice);

    /// <summary>Reads a notice; anything else is refused with what is wrong (the sender logs it and drops the message).</summary>
    public static TerminalWebhookNotice Parse(string json)
    {
        TerminalWebhookNotice? notice;
        try
        {
            notice = JsonSerializer.Deserialize(json, WebhookNoticeJsonContext.Default.TerminalWebhookNotice);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Not a webhook notice: {e.Message}", e);
        }
        if (notice is null || string.IsNullOrWhiteSpace(notice.TenantId) || string.IsNullOrWhiteSpace(notice.JobId))
        {
            throw new FormatException("Not a webhook notice: tenantId and jobId must be non-empty.");
        }
        if (!IsNoticeKind(notice.Kind))
        {
            throw new FormatException($"A webhook notice is for Cancelled or Expired, not {notice.Kind}.");
        }
        return notice;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(TerminalWebhookNotice))]
internal sealed partial class WebhookNoticeJsonContext : JsonSerializerContext;
