using System.Text;
using System.Text.Json;
using CodeFormer.Functions.Api;
using CodeFormer.Functions.Functions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace CodeFormer.Functions.Tests;

/// <summary>The function classes as the host calls them: HttpRequest in, IActionResult out (status, headers, body).</summary>
[Collection(ServiceStackCollection.Name)]
public sealed class FunctionAdapterTests(ServiceStack stack)
{
    private static async Task<(int Status, IHeaderDictionary Headers, string ContentType, string Body)> ExecuteAsync(
        Func<HttpRequest, Task<IActionResult>> function, string method, string? authorization, string? body = null, string? idempotencyKey = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        if (authorization is not null) { context.Request.Headers.Authorization = authorization; }
        if (idempotencyKey is not null) { context.Request.Headers["Idempotency-Key"] = idempotencyKey; }
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body ?? ""));
        var responseBody = new MemoryStream();
        context.Response.Body = responseBody;
        var result = await function(context.Request);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return (context.Response.StatusCode, context.Response.Headers, context.Response.ContentType ?? "", Encoding.UTF8.GetString(responseBody.ToArray()));
    }

    [Fact]
    public async Task A_body_over_64_KB_is_a_413_even_when_its_first_64_KB_are_valid_json()
    {
        var tenant = await stack.NewTenantAsync();
        var functions = new JobsFunctions(stack.Api());
        const string options = """{"upscale":2}""";

        // Cut at the limit, this body would still parse: it must be refused whole, not run with a prefix.
        var tooLarge = await ExecuteAsync(r => functions.CreateAsync(r, default), "POST", "Bearer " + tenant.ApiKey, options + new string(' ', ApiRequest.MaxBodyBytes));
        Assert.Equal(413, tooLarge.Status);
        Assert.Contains("65,536 bytes", tooLarge.Body, StringComparison.Ordinal);

        var atTheLimit = await ExecuteAsync(r => functions.CreateAsync(r, default), "POST", "Bearer " + tenant.ApiKey, options + new string(' ', ApiRequest.MaxBodyBytes - options.Length));
        Assert.Equal(201, atTheLimit.Status);
    }

    [Fact]
    public async Task The_http_functions_pass_headers_and_body_through_and_answer_with_the_handler_s_status()
    {
        var tenant = await stack.NewTenantAsync();
        var functions = new JobsFunctions(stack.Api());

        var created = await ExecuteAsync(r => functions.CreateAsync(r, default), "POST", "Bearer " + tenant.ApiKey, """{"upscale":3}""", "adapter-1");
        Assert.Equal(201, created.Status);
        var job = JsonSerializer.Deserialize(created.Body, ApiJsonContext.Default.CreatedJob)!.Job;
        Assert.Equal(3, job.Options.Upscale);
        Assert.Equal($"/api/jobs/{job.JobId}", created.Headers.Location.ToString());

        var replay = await ExecuteAsync(r => functions.CreateAsync(r, default), "POST", "Bearer " + tenant.ApiKey, """{"upscale":3}""", "adapter-1");
        Assert.Equal(job.JobId, JsonSerializer.Deserialize(replay.Body, ApiJsonContext.Default.CreatedJob)!.Job.JobId);

        var unauthorized = await ExecuteAsync(r => functions.GetAsync(r, job.JobId, default), "GET", null);
        Assert.Equal(401, unauthorized.Status);
        Assert.StartsWith("application/problem+json", unauthorized.ContentType);
        Assert.Equal("Bearer", unauthorized.Headers.WWWAuthenticate.ToString());

        var cancelled = await ExecuteAsync(r => functions.CancelAsync(r, job.JobId, default), "DELETE", "Bearer " + tenant.ApiKey);
        Assert.Equal(200, cancelled.Status);
        Assert.Contains("\"state\":\"Cancelled\"", cancelled.Body);
    }

    [Fact]
    public async Task The_blob_trigger_function_does_not_throw_for_a_bad_upload_and_records_it_rejected()
    {
        var tenant = await stack.NewTenantAsync();
        var tenantId = tenant.Tenant.TenantId;
        var blob = stack.Uploads.GetBlobClient($"{tenantId}/notes.txt");
        await blob.UploadAsync(BinaryData.FromBytes(TestImages.NotAnImage()));

        await new EnqueueUploadedPhoto(stack.Intake()).RunAsync(blob, tenantId, "notes.txt", default);

        var jobId = Shared.Jobs.JobIds.ForUpload("uploads", blob.Name, (await blob.GetPropertiesAsync()).Value.ETag.ToString());
        var job = await stack.Jobs.GetAsync(tenantId, jobId);
        Assert.Equal(Shared.Jobs.JobState.Rejected, job!.State);
        Assert.Equal("NotDecodable", job.RejectionRule);
    }
}
