using System.Text.Json;
using System.Text.Json.Serialization;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.GpuRunner.Jobs;

/// <summary>
/// The JSON report written beside a result (<c>results/{tenant}/{jobId}.json</c>): faces (photo pixels), per-stage
/// timings, warnings, and the usage the job is metered on. Written after the result, and with If-None-Match: * like it,
/// so it is also the job's commit record: a redelivery that finds it takes the usage from it and does not restore again.
/// </summary>
public sealed record JobReport
{
    public required string JobId { get; init; }
    public required string TenantId { get; init; }
    public required string ResultBlobName { get; init; }
    public required string Format { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required int InputWidth { get; init; }
    public required int InputHeight { get; init; }
    public required bool Greyscale { get; init; }
    public required IReadOnlyList<FaceReport> Faces { get; init; }
    public required IReadOnlyDictionary<string, double> TimingsMilliseconds { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    public required JobUsage Usage { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, WorkerJsonContext.Default.JobReport);

    public static JobReport Parse(BinaryData json) =>
        JsonSerializer.Deserialize(json.ToMemory().Span, WorkerJsonContext.Default.JobReport)
        ?? throw new JsonException("The job report is empty.");
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobReport))]
internal sealed partial class WorkerJsonContext : JsonSerializerContext;
