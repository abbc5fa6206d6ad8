using CodeFormer.Functions.Intake;
using Microsoft.Azure.Functions.Worker;

namespace CodeFormer.Functions.Functions;

/// <summary>
/// The blob trigger on <c>uploads/{tenant}/{name}</c>, fed by Event Grid's BlobCreated events (the subscription is
/// provisioned by infra/bicep for this function name). A thin adapter: the work is in <see cref="UploadIntakeHandler"/>.
/// It binds to the blob's name only; the handler reads the header itself with ranged reads.
/// </summary>
public sealed class EnqueueUploadedPhoto(UploadIntakeHandler intake)
{
    [Function(nameof(EnqueueUploadedPhoto))]
    public async Task RunAsync(
        [BlobTrigger("uploads/{tenant}/{name}", Source = BlobTriggerSource.EventGrid, Connection = "Storage")] Azure.Storage.Blobs.BlobClient blob,
        string tenant,
        string name,
        CancellationToken cancellationToken)
    {
        // A rejected upload returns normally (no retry storm); an outage throws and the platform retries.
        await intake.HandleAsync($"{tenant}/{name}", cancellationToken);
    }
}
