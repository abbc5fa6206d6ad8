using System.Text.Json;

namespace CodeFormer.Infra.Tests.Support;

/// <summary>A resource declared in the compiled template, with the scope (module) it is declared in.</summary>
public sealed class TemplateResource
{
    public TemplateResource(JsonElement element, TemplateScope scope)
    {
        Element = element;
        Scope = scope;
        Type = element.GetProperty("type").GetString()!;
    }

    public string Type { get; }

    public JsonElement Element { get; }

    public TemplateScope Scope { get; }

    /// <summary>The resource's name as resolved in its scope (an expression when it is computed).</summary>
    public string Name => Scope.ResolveString(Element.GetProperty("name"));

    /// <summary>The element at a dotted path below the resource ("properties.siteConfig.appSettings").</summary>
    public JsonElement At(string path)
    {
        var current = Element;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
            {
                throw new KeyNotFoundException($"{Type} '{Name}' (module {Scope.ModuleName}) has no '{path}' (missing '{part}').");
            }
        }
        return current;
    }

    /// <summary>The value at a path, with parameter/variable references resolved.</summary>
    public JsonElement Resolved(string path) => Scope.Resolve(At(path));

    public string ResolvedString(string path) => Scope.ResolveString(At(path));

    public override string ToString() => $"{Type} '{Name}' in module {Scope.ModuleName}";
}
