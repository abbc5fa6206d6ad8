using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CodeFormer.Shared.Settings;
using Microsoft.Extensions.Options;

namespace CodeFormer.GpuRunner.Jobs;

/// <summary>
/// Uploads and results in blob storage. Results and reports are created with If-None-Match: *, so a blob is written at
/// most once: a redelivery (or a second worker racing on the same job) that finds it already written gets false back
/// and takes it as done. The names carry the job id, so whatever is there was written for this job.
/// </summary>
public sealed class ResultStore(BlobServiceClient blobs, IOptions<JobsSettings> jobs)
{
    /// <summary>The upload's bytes; throws <see cref="PermanentJobFailureException"/> when it is gone (deleted, or expired by the lifecycle rule).</summary>
    public async Task<BinaryData> DownloadUploadAsync(string container, string blobName, CancellationToken cancellationToken)
    {
        try
        {
            var content = await blobs.GetBlobContainerClient(container).GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return content.Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new PermanentJobFailureException(FailureReasons.UploadMissing, $"The upload {container}/{blobName} does not exist (deleted or expired).", e);
        }
    }

    /// <summary>Creates the blob unless it exists. True when this call wrote it, false when it was there already.</summary>
    public async Task<bool> CreateOnceAsync(string blobName, BinaryData content, string contentType, IDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var blob = Results.GetBlobClient(blobName);
        try
        {
            await blob.UploadAsync(content, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
                Metadata = metadata,
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>The report of a job whose result was committed already, or null.</summary>
    public async Task<JobReport?> TryReadReportAsync(string blobName, CancellationToken cancellationToken)
    {
        try
        {
            var content = await Results.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return JobReport.Parse(content.Value.Content);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private BlobContainerClient Results => blobs.GetBlobContainerClient(jobs.Value.ResultsContainer);
}
