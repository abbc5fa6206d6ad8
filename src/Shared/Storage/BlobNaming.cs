using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Tenants;

namespace CodeFormer.Shared.Storage;

/// <summary>
/// Where a job's blobs live. Uploads: <c>uploads/{tenant}/{anything}</c> for direct uploads, and
/// <c>uploads/{tenant}/api-{jobId}</c> for a job created through the API (the SAS URL names exactly that blob, so the
/// blob trigger attaches the upload to that job). Results: <c>results/{tenant}/{jobId}.{ext}</c> with the JSON report
/// beside it as <c>results/{tenant}/{jobId}.json</c>.
/// </summary>
public static class BlobNaming
{
    public const string ApiUploadPrefix = "api-";

    /// <summary>The blob name (inside the uploads container) an API job's SAS URL lets its tenant write.</summary>
    public static string ApiUploadBlobName(string tenantId, string jobId) => $"{TenantIds.EnsureValid(tenantId)}/{ApiUploadPrefix}{jobId}";

    /// <summary>The job id named by an upload's path below the tenant, when it is an API job's upload.</summary>
    public static bool TryGetApiJobId(string nameBelowTenant, out string jobId)
    {
        jobId = "";
        if (nameBelowTenant.StartsWith(ApiUploadPrefix, StringComparison.Ordinal)
            && JobIds.IsValid(nameBelowTenant[ApiUploadPrefix.Length..]))
        {
            jobId = nameBelowTenant[ApiUploadPrefix.Length..];
            return true;
        }
        return false;
    }

    /// <summary>Splits an upload's blob name (inside the container) into tenant and the rest.</summary>
    public static bool TrySplitUpload(string blobName, out string tenantId, out string nameBelowTenant)
    {
        var slash = blobName.IndexOf('/', StringComparison.Ordinal);
        tenantId = slash > 0 ? blobName[..slash] : "";
        nameBelowTenant = slash > 0 ? blobName[(slash + 1)..] : "";
        return slash > 0 && nameBelowTenant.Length > 0;
    }

    /// <summary>The result blob: <c>{tenant}/{jobId}.{png|jpg|webp}</c>.</summary>
    public static string ResultBlobName(string tenantId, string jobId, string extensionWithoutDot) =>
        $"{TenantIds.EnsureValid(tenantId)}/{jobId}.{extensionWithoutDot.TrimStart('.')}";

    /// <summary>The JSON report beside the result: <c>{tenant}/{jobId}.json</c>.</summary>
    public static string ReportBlobName(string tenantId, string jobId) => $"{TenantIds.EnsureValid(tenantId)}/{jobId}.json";
}
