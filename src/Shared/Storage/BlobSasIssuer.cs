using Azure.Storage.Blobs;
using Azure.Storage.Sas;

namespace CodeFormer.Shared.Storage;

/// <summary>
/// Issues the only two kinds of SAS URL the service hands out, each for ONE blob and at most 15 minutes:
/// upload (create + write) and result (read). In Azure the app's identity has no account key, so it signs a
/// user-delegation SAS with a delegation key; against Azurite (or any client holding a shared key,
/// <see cref="BlobClient.CanGenerateSasUri"/>) it signs a service SAS with the same scope and expiry.
/// </summary>
public sealed class BlobSasIssuer(BlobServiceClient service, TimeProvider? timeProvider = null)
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(15);

    /// <summary>Clock skew allowance on the start time (the storage service's clock may run a little behind ours).</summary>
    private static readonly TimeSpan StartSkew = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>A URL that can create/overwrite exactly this blob (no read, no list, no delete).</summary>
    public Task<Uri> IssueUploadAsync(string container, string blobName, TimeSpan lifetime, CancellationToken cancellationToken = default) =>
        IssueAsync(container, blobName, BlobSasPermissions.Create | BlobSasPermissions.Write, lifetime, cancellationToken);

    /// <summary>A URL that can read exactly this blob.</summary>
    public Task<Uri> IssueReadAsync(string container, string blobName, TimeSpan lifetime, CancellationToken cancellationToken = default) =>
        IssueAsync(container, blobName, BlobSasPermissions.Read, lifetime, cancellationToken);

    /// <summary>The lifetime actually granted: never above 15 minutes, never below one.</summary>
    public static TimeSpan ClampLifetime(TimeSpan requested) =>
        requested > MaxLifetime ? MaxLifetime : requested < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : requested;

    private async Task<Uri> IssueAsync(string container, string blobName, BlobSasPermissions permissions, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var builder = new BlobSasBuilder
        {
            BlobContainerName = container,
            BlobName = blobName,
            Resource = "b", // one blob, never the container
            StartsOn = now - StartSkew,
            ExpiresOn = now + ClampLifetime(lifetime),
            Protocol = service.Uri.Scheme == Uri.UriSchemeHttps ? SasProtocol.Https : SasProtocol.HttpsAndHttp,
        };
        builder.SetPermissions(permissions);

        var blob = service.GetBlobContainerClient(container).GetBlobClient(blobName);
        if (blob.CanGenerateSasUri)
        {
            return blob.GenerateSasUri(builder);
        }
        // The delegation key may not outlive its use by much either: it expires with the SAS.
        var key = await service.GetUserDelegationKeyAsync(builder.StartsOn, builder.ExpiresOn, cancellationToken).ConfigureAwait(false);
        var sas = builder.ToSasQueryParameters(key.Value, service.AccountName);
        return new BlobUriBuilder(blob.Uri) { Sas = sas }.ToUri();
    }
}
