using System.Net;
using System.Text.Json;
using CodeFormer.Shared.Tenants;

namespace CodeFormer.Functions.Api;

/// <summary>
/// POST /api/admin/tenants: creates a tenant and returns its API key and webhook secret, once. The function is
/// <c>AuthorizationLevel.Admin</c>, so the Functions host lets it run only with the app's master (admin) key.
/// </summary>
public sealed class AdminApi(TenantStore tenants)
{
    public async Task<ApiResponse> CreateTenantAsync(BinaryData? body, CancellationToken cancellationToken = default)
    {
        CreateTenantRequest? request;
        try
        {
            request = body is null ? null : JsonSerializer.Deserialize(body.ToMemory().Span, ApiJsonContext.Default.CreateTenantRequest);
        }
        catch (JsonException e)
        {
            return ApiResponse.Problem(HttpStatusCode.BadRequest, "Invalid request body", e.Message);
        }
        if (request is null)
        {
            return ApiResponse.Problem(HttpStatusCode.BadRequest, "Invalid request body", "Send {\"tenantId\": \"...\", \"displayName\": \"...\"}.");
        }
        if (!TenantIds.IsValid(request.TenantId))
        {
            return ApiResponse.Problem(HttpStatusCode.BadRequest, "Invalid tenant id",
                $"Tenant id '{request.TenantId}' is invalid: use 3–40 lower-case letters, digits and hyphens, starting with a letter.");
        }
        try
        {
            var created = await tenants.CreateAsync(request.TenantId, request.DisplayName, cancellationToken).ConfigureAwait(false);
            return ApiResponse.Json(HttpStatusCode.Created, new CreatedTenantResponse
            {
                TenantId = created.Tenant.TenantId,
                DisplayName = created.Tenant.DisplayName,
                ApiKey = created.ApiKey,
                WebhookSecret = created.WebhookSecret,
            }, ApiJsonContext.Default.CreatedTenantResponse);
        }
        catch (TenantExistsException e)
        {
            return ApiResponse.Problem(HttpStatusCode.Conflict, "Tenant exists", e.Message);
        }
    }
}
