using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.Shared.Tenants;

/// <summary>A tenant as the API sees it (never its key: only the key's hash is stored).</summary>
public sealed record Tenant(string TenantId, string DisplayName, DateTimeOffset CreatedAt, bool Revoked);

/// <summary>A new tenant and its API key: the only moment the key exists in clear.</summary>
public sealed record CreatedTenant(Tenant Tenant, string ApiKey, string WebhookSecret);

/// <summary>
/// Tenants in the jobs table (PartitionKey {tenantId}, RowKey "tenant"). API keys look like
/// <c>cfk_{tenantId}_{43 base64url chars}</c>: the tenant id inside lets a key be checked with one point read, and
/// only its SHA-256 is stored, compared in constant time. Each tenant also has a webhook signing secret
/// (<c>whsec_…</c>, Standard Webhooks) that the worker reads to sign completion notices.
/// </summary>
public sealed class TenantStore(TableClient table, TimeProvider? timeProvider = null)
{
    private const string KeyPrefix = "cfk_";
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>Creates the tenant; throws <see cref="TenantExistsException"/> if the id is taken.</summary>
    public async Task<CreatedTenant> CreateAsync(string tenantId, string? displayName = null, CancellationToken cancellationToken = default)
    {
        TenantIds.EnsureValid(tenantId);
        var apiKey = $"{KeyPrefix}{tenantId}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";
        var webhookSecret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var now = _time.GetUtcNow();
        var entity = new TableEntity(tenantId, JobTableKeys.TenantRow)
        {
            ["DisplayName"] = displayName ?? tenantId,
            ["ApiKeySha256"] = Convert.ToHexStringLower(Hash(apiKey)),
            ["WebhookSecret"] = webhookSecret,
            ["CreatedAt"] = now,
            ["Revoked"] = false,
        };
        try
        {
            await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            throw new TenantExistsException(tenantId, e);
        }
        return new CreatedTenant(new Tenant(tenantId, displayName ?? tenantId, now, false), apiKey, webhookSecret);
    }

    /// <summary>The tenant whose valid, unrevoked key this is; null for anything else (malformed, unknown, wrong, revoked).</summary>
    public async Task<Tenant?> AuthenticateAsync(string? apiKey, CancellationToken cancellationToken = default)
    {
        if (apiKey is null || !apiKey.StartsWith(KeyPrefix, StringComparison.Ordinal) || apiKey.Length > 200)
        {
            return null;
        }
        // Tenant ids hold no '_', so the first one after the prefix ends the id (the secret may contain more).
        var separator = apiKey.IndexOf('_', KeyPrefix.Length);
        var tenantId = separator > KeyPrefix.Length ? apiKey[KeyPrefix.Length..separator] : "";
        if (!TenantIds.IsValid(tenantId))
        {
            return null;
        }
        var row = await GetRowAsync(tenantId, cancellationToken).ConfigureAwait(false);
        if (row is null || (row.GetBoolean("Revoked") ?? false))
        {
            return null;
        }
        byte[] stored;
        try
        {
            stored = Convert.FromHexString(row.GetString("ApiKeySha256") ?? "");
        }
        catch (FormatException)
        {
            return null;
        }
        // Constant time: how much of the hash matched must not show in the response time.
        return CryptographicOperations.FixedTimeEquals(stored, Hash(apiKey)) ? ToTenant(row) : null;
    }

    /// <summary>Revokes the tenant's key: every later request with it is 401. Returns false for an unknown tenant.</summary>
    public async Task<bool> RevokeAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        var row = await GetRowAsync(tenantId, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return false;
        }
        row["Revoked"] = true;
        row["ApiKeySha256"] = "";
        await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<Tenant?> GetAsync(string tenantId, CancellationToken cancellationToken = default) =>
        await GetRowAsync(tenantId, cancellationToken).ConfigureAwait(false) is { } row ? ToTenant(row) : null;

    /// <summary>The secret the worker signs the tenant's webhook calls with (Standard Webhooks, <c>whsec_…</c>).</summary>
    public async Task<string?> GetWebhookSecretAsync(string tenantId, CancellationToken cancellationToken = default) =>
        (await GetRowAsync(tenantId, cancellationToken).ConfigureAwait(false))?.GetString("WebhookSecret");

    private async Task<TableEntity?> GetRowAsync(string tenantId, CancellationToken cancellationToken)
    {
        if (!TenantIds.IsValid(tenantId))
        {
            return null;
        }
        var response = await table.GetEntityIfExistsAsync<TableEntity>(tenantId, JobTableKeys.TenantRow, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    private static Tenant ToTenant(TableEntity row) => new(
        row.PartitionKey, row.GetString("DisplayName") ?? row.PartitionKey, row.GetDateTimeOffset("CreatedAt") ?? default, row.GetBoolean("Revoked") ?? false);

    private static byte[] Hash(string apiKey) => SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public sealed class TenantExistsException(string tenantId, Exception inner)
    : Exception($"Tenant '{tenantId}' exists already.", inner)
{
    public string TenantId { get; } = tenantId;
}
