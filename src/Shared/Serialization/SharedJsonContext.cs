using System.Text.Json;
using System.Text.Json.Serialization;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.Shared.Serialization;

/// <summary>
/// The one JSON shape of every contract (source-generated: no reflection, trimming-safe). camelCase names, enums as
/// their names (read case-insensitively), nulls left out. Unknown fields are ignored (an older reader tolerates a newer writer);
/// <c>[JsonRequired]</c> fields that are missing are refused with their names.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(JobOptions))]
[JsonSerializable(typeof(RestoreJobMessage))]
[JsonSerializable(typeof(JobEventData))]
[JsonSerializable(typeof(JobUsage))]
[JsonSerializable(typeof(MonthlyUsage))]
public sealed partial class SharedJsonContext : JsonSerializerContext;
