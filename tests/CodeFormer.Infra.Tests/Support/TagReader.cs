using System.Text.Json;
using System.Text.RegularExpressions;

namespace CodeFormer.Infra.Tests.Support;

/// <summary>
/// The tags a resource ends up with: a literal object, a reference to the module's <c>tags</c>
/// parameter (resolved up to main.bicep), or <c>union(parameters('tags'), createObject('k', 'v'))</c>
/// as Bicep compiles <c>union(tags, { k: 'v' })</c>.
/// </summary>
public static partial class TagReader
{
    public static IReadOnlyDictionary<string, string> Read(TemplateResource resource)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!resource.Element.TryGetProperty("tags", out var element))
        {
            return tags;
        }
        if (element.ValueKind == JsonValueKind.Object)
        {
            AddObject(tags, element);
            return tags;
        }
        var expression = element.GetString() ?? string.Empty;
        foreach (Match reference in ParameterOrVariable().Matches(expression))
        {
            using var probe = JsonDocument.Parse(JsonSerializer.Serialize($"[{reference.Value}]"));
            var resolved = resource.Scope.Resolve(probe.RootElement);
            if (resolved.ValueKind == JsonValueKind.Object)
            {
                AddObject(tags, resolved);
            }
        }
        foreach (Match pair in CreateObjectPair().Matches(expression))
        {
            tags[pair.Groups["key"].Value] = pair.Groups["value"].Value;
        }
        return tags;
    }

    // Values are kept as written: an object resolved from main.bicep holds expressions of main.bicep's
    // scope (e.g. [parameters('environmentName')]), which must not be re-read in the module's scope.
    private static void AddObject(Dictionary<string, string> tags, JsonElement obj)
    {
        foreach (var property in obj.EnumerateObject())
        {
            tags[property.Name] = property.Value.ValueKind == JsonValueKind.String
                ? property.Value.GetString()!
                : property.Value.GetRawText();
        }
    }

    [GeneratedRegex(@"(parameters|variables)\('[^']+'\)")]
    private static partial Regex ParameterOrVariable();

    [GeneratedRegex(@"createObject\('(?<key>[^']+)', '(?<value>[^']*)'\)")]
    private static partial Regex CreateObjectPair();
}
