using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Types;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// An entity's <c>$management</c> request-response node: lock renewal, peek, settlement by lock token and
/// scheduling, answered with the status codes and map keys the SDK expects.
/// </summary>
internal sealed class ManagementProcessor(BrokerCore core, MessageStore store) : IRequestProcessor
{
    const int Ok = 200;
    const int NoContent = 204;
    const int BadRequest = 400;
    const int Gone = 410;
    const int NotImplemented = 501;

    public int Credit => 100;

    public void Process(RequestContext requestContext)
    {
        Message response;
        try
        {
            response = Handle(requestContext.Message);
        }
        catch (Exception exception) when (exception is InvalidCastException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            response = Failure(BadRequest, ServiceBusWire.ArgumentError, $"The test broker could not read the management request: {exception.Message}");
        }

        core.Wake();
        requestContext.Complete(response);
    }

    Message Handle(Message request)
    {
        var operation = request.ApplicationProperties?[ServiceBusWire.Keys.Operation] as string;
        var body = request.Body as Map ?? new Map();
        var now = DateTimeOffset.UtcNow;
        lock (core.Gate)
        {
            return operation switch
            {
                ServiceBusWire.Operations.RenewLock => RenewLocks(body, now),
                ServiceBusWire.Operations.PeekMessage => Peek(body),
                ServiceBusWire.Operations.UpdateDisposition => UpdateDisposition(body, now),
                ServiceBusWire.Operations.ScheduleMessage => Schedule(body, now),
                ServiceBusWire.Operations.CancelScheduledMessage => CancelScheduled(body),
                _ => Failure(NotImplemented, ServiceBusWire.NotImplemented, $"Management operation '{operation}' is not modelled by the Service Bus test broker."),
            };
        }
    }

    Message RenewLocks(Map body, DateTimeOffset now)
    {
        var tokens = ReadGuids(body[ServiceBusWire.Keys.LockTokens]);
        var expirations = new DateTime[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            if (store.RenewLock(tokens[i], now) is not { } lockedUntil)
            {
                return LockLost(tokens[i]);
            }

            expirations[i] = lockedUntil.UtcDateTime;
        }

        return Success(new Map { [ServiceBusWire.Keys.Expirations] = expirations });
    }

    Message Peek(Map body)
    {
        var from = Convert.ToInt64(body[ServiceBusWire.Keys.FromSequenceNumber] ?? 0L);
        var count = Convert.ToInt32(body[ServiceBusWire.Keys.MessageCount] ?? 1);
        var messages = new List();
        foreach (var stored in store.AllMessages.Where(m => m.SequenceNumber >= from).Take(count))
        {
            messages.Add(new Map { [ServiceBusWire.Keys.Message] = stored.EncodeForPeek() });
        }

        return messages.Count == 0
            ? Respond(NoContent, "No messages to peek.", new Map())
            : Success(new Map { [ServiceBusWire.Keys.Messages] = messages });
    }

    Message UpdateDisposition(Map body, DateTimeOffset now)
    {
        var status = body[ServiceBusWire.Keys.DispositionStatus] as string ?? string.Empty;
        var reason = body[ServiceBusWire.Keys.DeadLetterReason] as string;
        var description = body[ServiceBusWire.Keys.DeadLetterDescription] as string;
        var properties = body[ServiceBusWire.Keys.PropertiesToModify] as Map;
        foreach (var token in ReadGuids(body[ServiceBusWire.Keys.LockTokens]))
        {
            if (store.SettleByStatus(token, status, reason, description, properties, now) is { } error)
            {
                return error.Condition == ServiceBusWire.MessageLockLost
                    ? LockLost(token)
                    : Failure(NotImplemented, error.Condition, error.Description);
            }
        }

        return Success(new Map());
    }

    Message Schedule(Map body, DateTimeOffset now)
    {
        if (store.DeadLetterStore is null)
        {
            return Failure(BadRequest, ServiceBusWire.ArgumentError, "Messages cannot be scheduled on a dead-letter queue.");
        }

        var sequenceNumbers = new List<long>();
        foreach (var entry in (IEnumerable<object>)body[ServiceBusWire.Keys.Messages])
        {
            var encoded = (byte[])((Map)entry)[ServiceBusWire.Keys.Message];
            sequenceNumbers.Add(store.Enqueue(encoded, now) ?? 0);
        }

        return Success(new Map { [ServiceBusWire.Keys.SequenceNumbers] = sequenceNumbers.ToArray() });
    }

    Message CancelScheduled(Map body)
    {
        foreach (var sequenceNumber in (IEnumerable<long>)body[ServiceBusWire.Keys.SequenceNumbers])
        {
            if (!store.CancelScheduled(sequenceNumber))
            {
                return Failure(404, ServiceBusWire.MessageNotFound, $"No scheduled message with sequence number {sequenceNumber}.");
            }
        }

        return Success(new Map());
    }

    static Guid[] ReadGuids(object? value) => value switch
    {
        Guid[] guids => guids,
        IEnumerable<object> items => items.Cast<Guid>().ToArray(),
        _ => throw new InvalidOperationException($"'{ServiceBusWire.Keys.LockTokens}' must be an array of UUIDs"),
    };

    static Message LockLost(Guid token) =>
        Failure(Gone, ServiceBusWire.MessageLockLost, MessageStore.LockLostError(token).Description);

    static Message Success(Map body) => Respond(Ok, "OK", body);

    static Message Failure(int statusCode, Symbol condition, string description)
    {
        var response = Respond(statusCode, description, new Map());
        response.ApplicationProperties[ServiceBusWire.Keys.ErrorCondition] = condition;
        return response;
    }

    static Message Respond(int statusCode, string description, Map body)
    {
        var response = new Message(body) { ApplicationProperties = new ApplicationProperties() };
        response.ApplicationProperties[ServiceBusWire.Keys.StatusCode] = statusCode;
        response.ApplicationProperties[ServiceBusWire.Keys.StatusDescription] = description;
        return response;
    }
}
