namespace CodeFormer.Shared.Jobs;

/// <summary>
/// The one table (<c>Jobs__tableName</c>, "jobs") holds everything, one partition per tenant, so that the writes that
/// must happen together are one entity-group transaction:
/// <list type="table">
/// <item><term>PartitionKey {tenantId}, RowKey <c>tenant</c></term><description>the tenant: hashed API key, webhook secret</description></item>
/// <item><term>PartitionKey {tenantId}, RowKey <c>job|{jobId}</c></term><description>one row per job</description></item>
/// <item><term>PartitionKey {tenantId}, RowKey <c>idem|{sha256(key)}</c></term><description>an Idempotency-Key → its job id (inserted with the job, atomically)</description></item>
/// <item><term>PartitionKey {tenantId}, RowKey <c>usage|{yyyy-MM}|{jobId}</c></term><description>one usage row per succeeded job (inserted with the Succeeded transition, atomically: counted exactly once)</description></item>
/// </list>
/// Tenant ids are lower-case letters, digits and hyphens, so they never collide with these row-key prefixes and
/// contain none of the characters table keys forbid.
/// </summary>
public static class JobTableKeys
{
    public const string TenantRow = "tenant";
    public const string JobPrefix = "job|";
    public const string IdempotencyPrefix = "idem|";
    public const string UsagePrefix = "usage|";

    public static string Job(string jobId) => JobPrefix + jobId;

    public static string Idempotency(string keyHash) => IdempotencyPrefix + keyHash;

    public static string Usage(string month, string jobId) => $"{UsagePrefix}{month}|{jobId}";

    public static string UsageMonthPrefix(string month) => $"{UsagePrefix}{month}|";
}
