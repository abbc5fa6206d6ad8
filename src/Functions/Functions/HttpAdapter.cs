using CodeFormer.Functions.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace CodeFormer.Functions.Functions;

/// <summary>HttpRequest → <see cref="ApiRequest"/>, <see cref="ApiResponse"/> → IActionResult: all the functions do besides calling a handler.</summary>
internal static class HttpAdapter
{
    /// <summary>Reads at most <see cref="ApiRequest.MaxBodyBytes"/> (+ one chunk) of the body; a longer one is flagged, not cut.</summary>
    public static async Task<ApiRequest> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while (buffer.Length <= ApiRequest.MaxBodyBytes && (read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
        }
        // A prefix of a longer body can still be valid JSON ({"upscale":2} then 64 KB of spaces): refuse it whole.
        var tooLarge = buffer.Length > ApiRequest.MaxBodyBytes;
        return new ApiRequest
        {
            Authorization = request.Headers.Authorization.FirstOrDefault(),
            IdempotencyKey = request.Headers["Idempotency-Key"].FirstOrDefault(),
            Body = tooLarge ? null : BinaryData.FromBytes(buffer.ToArray()),
            BodyTooLarge = tooLarge,
        };
    }

    public static IActionResult Write(ApiResponse response, HttpResponse http)
    {
        foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
        {
            http.Headers[name] = value;
        }
        return new StatusCodeContentResult(response.Status, new FileContentResult(response.Body, response.ContentType));
    }

    /// <summary>A body with a status code (FileContentResult alone always answers 200).</summary>
    private sealed class StatusCodeContentResult(int status, FileContentResult content) : IActionResult
    {
        public async Task ExecuteResultAsync(ActionContext context)
        {
            context.HttpContext.Response.StatusCode = status;
            context.HttpContext.Response.ContentType = content.ContentType;
            await context.HttpContext.Response.Body.WriteAsync(content.FileContents);
        }
    }
}
