using System.Text.Json;
using System.Text.RegularExpressions;

namespace CodeFormer.Infra.Tests.Support;

/// <summary>
/// One ARM template in the compiled output (the root, or a module's nested template) together with the
/// parameter values its deployment passes in. Resolves the simple expressions Bicep emits for values
/// handed down from main.bicep (<c>[parameters('x')]</c>, <c>[variables('x')]</c>,
/// <c>[variables('x').y]</c>) to the literal they stand for, so tests can check what a resource really
/// gets rather than the name of a parameter. Anything else stays an expression (returned as is).
/// </summary>
public sealed partial class TemplateScope
{
    private readonly JsonElement _template;
    private readonly JsonElement? _passedParameters;
    private readonly TemplateScope? _parent;

    public TemplateScope(JsonElement template, JsonElement? passedParameters, TemplateScope? parent, string moduleName)
    {
        _template = template;
        _passedParameters = passedParameters;
        _parent = parent;
        ModuleName = moduleName;
    }

    /// <summary>The module's deployment name ("main" for the root template).</summary>
    public string ModuleName { get; }

    public JsonElement Template => _template;

    /// <summary>
    /// The value an element stands for, following parameter and variable references. When the result is
    /// an object or array, expressions inside it belong to the scope it came from and are left as written.
    /// </summary>
    public JsonElement Resolve(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value;
        }
        var text = value.GetString()!;
        var parameter = ParameterReference().Match(text);
        if (parameter.Success)
        {
            return ResolveParameter(parameter.Groups["name"].Value) ?? value;
        }
        var variable = VariableReference().Match(text);
        if (variable.Success)
        {
            var resolved = ResolveVariable(variable.Groups["name"].Value);
            if (resolved is { } found && variable.Groups["property"].Success)
            {
                return found.ValueKind == JsonValueKind.Object &&
                       found.TryGetProperty(variable.Groups["property"].Value, out var property)
                    ? Resolve(property)
                    : value;
            }
            return resolved ?? value;
        }
        return value;
    }

    /// <summary>The resolved value as a string, or the expression text if it cannot be resolved.</summary>
    public string ResolveString(JsonElement value)
    {
        var resolved = Resolve(value);
        return resolved.ValueKind == JsonValueKind.String ? resolved.GetString()! : resolved.GetRawText();
    }

    /// <summary>A template-level variable (literal values nested in it are left as written).</summary>
    public JsonElement? Variable(string name) =>
        _template.TryGetProperty("variables", out var variables) && variables.TryGetProperty(name, out var v) ? v : null;

    /// <summary>
    /// The expression the parent deployment passes for a parameter, as written (not resolved): the
    /// <c>value</c> of <c>{ "value": ... }</c>, or the whole entry when Bicep compiled a conditional value
    /// into one expression (<c>[if(..., createObject('value', a), createObject('value', b))]</c>).
    /// </summary>
    public string? ModuleParameterExpression(string name)
    {
        if (_passedParameters is not { } passed || !passed.TryGetProperty(name, out var given))
        {
            return null;
        }
        return given.ValueKind switch
        {
            JsonValueKind.String => given.GetString(),
            JsonValueKind.Object when given.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String => value.GetString(),
            _ => null,
        };
    }

    /// <summary>The value a parameter of this template gets (passed in, else its default), resolved.</summary>
    public JsonElement? Parameter(string name) => ResolveParameter(name);

    private JsonElement? ResolveParameter(string name)
    {
        if (_passedParameters is { } passed && passed.TryGetProperty(name, out var given) &&
            given.TryGetProperty("value", out var givenValue))
        {
            // A value the parent deployment passes is an expression in the parent's scope.
            return _parent is null ? givenValue : _parent.Resolve(givenValue);
        }
        if (_template.TryGetProperty("parameters", out var declared) && declared.TryGetProperty(name, out var declaration) &&
            declaration.TryGetProperty("defaultValue", out var defaultValue))
        {
            return Resolve(defaultValue);
        }
        return null;
    }

    private JsonElement? ResolveVariable(string name) => Variable(name) is { } v ? Resolve(v) : null;

    [GeneratedRegex(@"^\[parameters\('(?<name>[^']+)'\)\]$")]
    private static partial Regex ParameterReference();

    [GeneratedRegex(@"^\[variables\('(?<name>[^']+)'\)(\.(?<property>[A-Za-z0-9_]+))?\]$")]
    private static partial Regex VariableReference();
}
