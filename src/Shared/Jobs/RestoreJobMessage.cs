using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Messaging.ServiceBus;
using CodeFormer.Shared.Serialization;

namespace CodeFormer.Shared.Jobs;

/// <summary>
/// The queue message for one job. Its Service Bus <c>MessageId</c> is the job id, so the queue's duplicate detection
/// drops a second send of the same job (a retried function). <see cref="SchemaVersion"/> lets a newer worker refuse
/// a message it does not understand by name instead of misreading it.
/// </summary>
public sealed record RestoreJobMessage
{
    public const int CurrentSchemaVersion = 1;
    public const string ContentType = "application/json";
    public const string Subject = "restore";

    [JsonRequired]
    public required int SchemaVersion { get; init; }
    [JsonRequired]
    public required string JobId { get; init; }
    [JsonRequired]
    public required string TenantId { get; init; }
    [JsonRequired]
    public required string InputContainer { get; init; }
    [JsonRequired]
    public required string InputBlobName { get; init; }
    [JsonRequired]
    public required JobOptions Options { get; init; }
    public DateTimeOffset EnqueuedAt { get; init; }

    public static RestoreJobMessage For(JobRecord job, DateTimeOffset now) => new()
    {
        SchemaVersion = CurrentSchemaVersion,
        JobId = job.JobId,
        TenantId = job.TenantId,
        InputContainer = job.InputContainer,
        InputBlobName = job.InputBlobName,
        Options = job.Options,
        EnqueuedAt = now,
    };

    public ServiceBusMessage ToServiceBusMessage()
    {
        var message = new ServiceBusMessage(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(this, SharedJsonContext.Default.RestoreJobMessage)))
        {
            MessageId = JobId,
            ContentType = ContentType,
            Subject = Subject,
        };
        message.ApplicationProperties["schemaVersion"] = SchemaVersion;
        message.ApplicationProperties["tenantId"] = TenantId;
        return message;
    }

    /// <summary>
    /// Reads a received message body. Throws <see cref="InvalidJobMessageException"/> naming the problem: not JSON,
    /// a missing required field (by name), an unknown schema version, or a MessageId that is not the job id.
    /// Unknown fields are ignored, so an older worker reads a newer producer's additions.
    /// </summary>
    public static RestoreJobMessage Parse(BinaryData body, string? messageId = null)
    {
        RestoreJobMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(body.ToMemory().Span, SharedJsonContext.Default.RestoreJobMessage);
        }
        catch (JsonException e)
        {
            throw new InvalidJobMessageException($"The job message is not valid: {e.Message}", e);
        }
        if (message is null)
        {
            throw new InvalidJobMessageException("The job message is empty (JSON null).");
        }
        if (message.SchemaVersion != CurrentSchemaVersion)
        {
            throw new InvalidJobMessageException($"The job message has schema version {message.SchemaVersion}; this build reads version {CurrentSchemaVersion}.");
        }
        if (!JobIds.IsValid(message.JobId))
        {
            throw new InvalidJobMessageException($"The job message's jobId '{message.JobId}' is not 32 lower-case hex digits.");
        }
        if (messageId is not null && messageId != message.JobId)
        {
            throw new InvalidJobMessageException($"The message id '{messageId}' is not the job id '{message.JobId}'.");
        }
        var errors = message.Options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidJobMessageException("The job message's options are invalid: " + string.Join("; ", errors));
        }
        return message;
    }
}

/// <summary>A queue message that cannot be processed as it is (dead-letter it with this message as the reason).</summary>
public sealed class InvalidJobMessageException(string message, Exception? inner = null) : Exception(message, inner);
