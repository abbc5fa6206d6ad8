using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace CodeFormer.Shared.Jobs;

/// <summary>One entry of the upload-deadline index: which job's upload window ends when.</summary>
public sealed record UploadDeadline(DateTimeOffset ExpiresAt, string TenantId, string JobId, string RowKey);

/// <summary>
/// An index of API jobs' upload deadlines, so the overdue-upload sweep reads only the jobs that are due instead of
/// scanning every tenant's partition (the jobs table is one partition per tenant; "all AwaitingUpload jobs" would be a
/// full-table scan whose cost grows with every job and usage row ever written).
/// <para>
/// The rows live in one partition of the jobs table, <see cref="Partition"/>, with RowKey
/// <c>{upload expiry as 12-digit Unix seconds}|{tenant}|{job}</c>: RowKeys sort by deadline, so "due before T" is one
/// range query and costs what it returns. The partition name starts with '~', which tenant ids cannot contain.
/// </para>
/// <para>
/// A table transaction cannot span partitions, so an entry is written <em>before</em> the job row (or the window change)
/// it describes, never after: a crash in between leaves an entry without a job, which the sweep drops, never a job
/// without an entry, which would wait forever. Entries are not removed when a job leaves AwaitingUpload; the sweep
/// removes an entry once it has looked at its job after the deadline. So the partition holds about one entry per API job
/// created in the last upload window, whatever the table's size.
/// </para>
/// </summary>
public sealed class UploadDeadlineIndex(TableClient table)
{
    public const string Partition = "~upload-deadlines";

    /// <summary>Records (idempotently) that <paramref name="jobId"/>'s upload window ends at <paramref name="expiresAt"/>.</summary>
    public async Task AddAsync(string tenantId, string jobId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var row = new TableEntity(Partition, RowKeyOf(expiresAt, tenantId, jobId))
        {
            ["TenantId"] = tenantId,
            ["JobId"] = jobId,
            ["ExpiresAt"] = expiresAt,
        };
        await table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Entries whose deadline is before <paramref name="cutoff"/>, oldest first (a range query on the RowKey).</summary>
    public async IAsyncEnumerable<UploadDeadline> DueBeforeAsync(DateTimeOffset cutoff, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var before = SecondsOf(cutoff);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey lt {before}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return new UploadDeadline(
                row.GetDateTimeOffset("ExpiresAt") ?? DateTimeOffset.MinValue, row.GetString("TenantId"), row.GetString("JobId"), row.RowKey);
        }
    }

    /// <summary>Removes an entry the sweep has dealt with; an entry already gone (a concurrent sweep) is fine.</summary>
    public async Task RemoveAsync(UploadDeadline entry, CancellationToken cancellationToken = default)
    {
        try
        {
            await table.DeleteEntityAsync(Partition, entry.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    internal static string RowKeyOf(DateTimeOffset expiresAt, string tenantId, string jobId) => $"{SecondsOf(expiresAt)}|{tenantId}|{jobId}";

    private static string SecondsOf(DateTimeOffset time) =>
        Math.Max(0, time.ToUnixTimeSeconds()).ToString("D12", CultureInfo.InvariantCulture);
}
