using Amqp.Types;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// The names Service Bus puts on the wire and the Azure SDK reads back: message annotations, management
/// operations, map keys and error conditions. One place, so a mismatch with the SDK is fixed once.
/// </summary>
internal static class ServiceBusWire
{
    public const uint BatchMessageFormat = 0x80013700;
    public const string DeadLetterQueueSuffix = "/$deadletterqueue";
    public const string ManagementSuffix = "/$management";
    public const string CbsAddress = "$cbs";

    public static readonly Symbol SequenceNumber = new("x-opt-sequence-number");
    public static readonly Symbol EnqueuedTime = new("x-opt-enqueued-time");
    public static readonly Symbol LockedUntil = new("x-opt-locked-until");
    public static readonly Symbol ScheduledEnqueueTime = new("x-opt-scheduled-enqueue-time");
    public static readonly Symbol DeadLetterSource = new("x-opt-deadletter-source");

    public static readonly Symbol DeadLetterCondition = new("com.microsoft:dead-letter");
    public static readonly Symbol MessageLockLost = new("com.microsoft:message-lock-lost");
    public static readonly Symbol MessageNotFound = new("com.microsoft:message-not-found");
    public static readonly Symbol NotImplemented = new("amqp:not-implemented");
    public static readonly Symbol ArgumentError = new("com.microsoft:argument-error");

    /// <summary>Application properties that carry the dead-letter reason; the SDK reads them by these names.</summary>
    public const string DeadLetterReasonProperty = "DeadLetterReason";
    public const string DeadLetterDescriptionProperty = "DeadLetterErrorDescription";

    public static class Operations
    {
        public const string RenewLock = "com.microsoft:renew-lock";
        public const string PeekMessage = "com.microsoft:peek-message";
        public const string UpdateDisposition = "com.microsoft:update-disposition";
        public const string ScheduleMessage = "com.microsoft:schedule-message";
        public const string CancelScheduledMessage = "com.microsoft:cancel-scheduled-message";
    }

    public static class Keys
    {
        public const string Operation = "operation";
        public const string StatusCode = "statusCode";
        public const string StatusDescription = "statusDescription";
        public const string ErrorCondition = "errorCondition";
        public const string LockTokens = "lock-tokens";
        public const string Expirations = "expirations";
        public const string FromSequenceNumber = "from-sequence-number";
        public const string MessageCount = "message-count";
        public const string Messages = "messages";
        public const string Message = "message";
        public const string SequenceNumbers = "sequence-numbers";
        public const string DispositionStatus = "disposition-status";
        public const string DeadLetterReason = "deadletter-reason";
        public const string DeadLetterDescription = "deadletter-description";
        public const string PropertiesToModify = "properties-to-modify";
    }

    /// <summary>
    /// The SDK names an entity by path ("restore-jobs"), sometimes as a full URI or with a leading slash;
    /// the broker keys everything by the bare, case-insensitive path.
    /// </summary>
    public static string NormalizeAddress(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return string.Empty;
        }

        if (address.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            address = Uri.UnescapeDataString(uri.AbsolutePath);
        }

        return address.Trim('/');
    }
}
