using CodeFormer.Functions.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace CodeFormer.Functions.Functions;

/// <summary>
/// The HTTP API. Functions are Anonymous at the host level because tenants authenticate with their own API key
/// (checked by <see cref="JobsApi"/>), not with function keys. Routes are listed in openapi.json (a test keeps them equal).
/// </summary>
public sealed class JobsFunctions(JobsApi api)
{
    [Function("CreateJob")]
    public async Task<IActionResult> CreateAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "jobs")] HttpRequest request, CancellationToken cancellationToken) =>
        HttpAdapter.Write(await api.CreateAsync(await HttpAdapter.ReadAsync(request, cancellationToken), cancellationToken), request.HttpContext.Response);

    [Function("GetJob")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "jobs/{id}")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        HttpAdapter.Write(await api.GetAsync(await HttpAdapter.ReadAsync(request, cancellationToken), id, cancellationToken), request.HttpContext.Response);

    [Function("GetJobResult")]
    public async Task<IActionResult> GetResultAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "jobs/{id}/result")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        HttpAdapter.Write(await api.GetResultAsync(await HttpAdapter.ReadAsync(request, cancellationToken), id, cancellationToken), request.HttpContext.Response);

    [Function("CancelJob")]
    public async Task<IActionResult> CancelAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "jobs/{id}")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        HttpAdapter.Write(await api.CancelAsync(await HttpAdapter.ReadAsync(request, cancellationToken), id, cancellationToken), request.HttpContext.Response);

    [Function("GetUsage")]
    public async Task<IActionResult> GetUsageAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "usage")] HttpRequest request, CancellationToken cancellationToken) =>
        HttpAdapter.Write(await api.GetUsageAsync(await HttpAdapter.ReadAsync(request, cancellationToken), request.Query["month"].FirstOrDefault(), cancellationToken), request.HttpContext.Response);
}

/// <summary>Tenant administration: only with the Function app's admin (master) key.</summary>
public sealed class AdminFunctions(AdminApi api)
{
    [Function("CreateTenant")]
    public async Task<IActionResult> CreateTenantAsync(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "admin/tenants")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await HttpAdapter.ReadAsync(request, cancellationToken);
        return HttpAdapter.Write(await api.CreateTenantAsync(body.Body, cancellationToken), request.HttpContext.Response);
    }
}

/// <summary>GET /api/openapi.json: the API description (embedded openapi.json).</summary>
public sealed class OpenApiFunction
{
    [Function("OpenApiDocument")]
    public IActionResult Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request) =>
        new FileContentResult(OpenApiDocument.Bytes, "application/json");
}

/// <summary>The embedded OpenAPI 3 document.</summary>
public static class OpenApiDocument
{
    public static byte[] Bytes { get; } = Load();

    private static byte[] Load()
    {
        using var stream = typeof(OpenApiDocument).Assembly.GetManifestResourceStream("openapi.json")
            ?? throw new InvalidOperationException("openapi.json is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
