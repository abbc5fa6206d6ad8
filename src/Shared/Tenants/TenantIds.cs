namespace CodeFormer.Shared.Tenants;

/// <summary>
/// Tenant identifiers: 3–40 characters of lower-case letters, digits and hyphens, starting with a letter. They are the
/// first segment of blob paths (<c>uploads/{tenant}/…</c>) and part of table keys, so nothing else is allowed.
/// </summary>
public static class TenantIds
{
    public static bool IsValid(string? tenantId) =>
        tenantId is { Length: >= 3 and <= 40 }
        && tenantId[0] is >= 'a' and <= 'z'
        && tenantId[^1] != '-'
        && tenantId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    public static string EnsureValid(string? tenantId) => IsValid(tenantId)
        ? tenantId!
        : throw new ArgumentException(
            $"Tenant id '{tenantId}' is invalid: use 3–40 lower-case letters, digits and hyphens, starting with a letter.",
            nameof(tenantId));
}
