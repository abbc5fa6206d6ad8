using System.Reflection;
using System.Text.Json;
using CodeFormer.Functions.Functions;
using Microsoft.Azure.Functions.Worker;

namespace CodeFormer.Functions.Tests;

public sealed class OpenApiDocumentTests
{
    /// <summary>(METHOD, /route) of every HTTP-triggered function in the app.</summary>
    private static SortedSet<string> RoutesInCode() =>
    [
        .. typeof(JobsFunctions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .SelectMany(m => m.GetParameters())
            .Select(p => p.GetCustomAttribute<HttpTriggerAttribute>())
            .OfType<HttpTriggerAttribute>()
            .SelectMany(t => t.Methods!.Select(method => $"{method.ToUpperInvariant()} /{t.Route}")),
    ];

    private static SortedSet<string> RoutesInDocument(JsonDocument document) =>
    [
        .. document.RootElement.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(operation => operation.Name is "get" or "post" or "put" or "delete" or "patch")
            .Select(operation => $"{operation.Name.ToUpperInvariant()} {path.Name}")),
    ];

    [Fact]
    public void The_openapi_document_lists_exactly_the_routes_the_functions_serve()
    {
        using var document = JsonDocument.Parse(OpenApiDocument.Bytes);
        Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString());
        var inCode = RoutesInCode();
        Assert.Contains("POST /jobs", inCode);
        Assert.Contains("DELETE /jobs/{id}", inCode);
        Assert.Equal(inCode, RoutesInDocument(document));
    }

    [Fact]
    public void Every_operation_id_is_a_function_name()
    {
        using var document = JsonDocument.Parse(OpenApiDocument.Bytes);
        var functionNames = typeof(JobsFunctions).Assembly.GetTypes().SelectMany(t => t.GetMethods())
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name).OfType<string>().ToHashSet();
        var operationIds = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Value.TryGetProperty("operationId", out _)))
            .Select(o => o.Value.GetProperty("operationId").GetString()!).ToList();
        Assert.NotEmpty(operationIds);
        Assert.All(operationIds, id => Assert.Contains(id, functionNames));
    }

    [Fact]
    public void The_blob_trigger_is_named_and_sourced_as_the_infrastructure_expects()
    {
        var method = typeof(EnqueueUploadedPhoto).GetMethod(nameof(EnqueueUploadedPhoto.RunAsync))!;
        Assert.Equal("EnqueueUploadedPhoto", method.GetCustomAttribute<FunctionAttribute>()!.Name);
        var trigger = method.GetParameters().Select(p => p.GetCustomAttribute<BlobTriggerAttribute>()).OfType<BlobTriggerAttribute>().Single();
        Assert.Equal("uploads/{tenant}/{name}", trigger.BlobPath);
        Assert.Equal(BlobTriggerSource.EventGrid, trigger.Source);
        Assert.Equal("Storage", trigger.Connection);
    }

    [Fact]
    public void The_upload_sweep_timer_reads_its_schedule_from_the_setting_the_infrastructure_sets()
    {
        var method = typeof(ExpireOverdueUploads).GetMethod(nameof(ExpireOverdueUploads.RunAsync))!;
        Assert.Equal("ExpireOverdueUploads", method.GetCustomAttribute<FunctionAttribute>()!.Name);
        var trigger = method.GetParameters().Select(p => p.GetCustomAttribute<TimerTriggerAttribute>()).OfType<TimerTriggerAttribute>().Single();
        // infra/bicep/modules/functions.bicep sets UploadSweepSchedule (checked by the infra tests).
        Assert.Equal("%UploadSweepSchedule%", trigger.Schedule);
        Assert.Equal(ExpireOverdueUploads.ScheduleSetting, trigger.Schedule.Trim('%'));
    }

    [Fact]
    public void The_functions_app_references_neither_onnx_runtime_nor_the_engine()
    {
        var references = typeof(JobsFunctions).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain(references, n => n!.Contains("OnnxRuntime", StringComparison.OrdinalIgnoreCase) || n == "CodeFormer.Engine");
        var output = Path.GetDirectoryName(typeof(JobsFunctions).Assembly.Location)!;
        Assert.Empty(Directory.GetFiles(output, "*OnnxRuntime*"));
        Assert.False(File.Exists(Path.Combine(output, "CodeFormer.Engine.dll")));
    }
}
