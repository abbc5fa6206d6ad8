using System.Text.Json;

namespace CodeFormer.Infra.Tests.Support;

/// <summary>
/// infra/bicep/main.bicep compiled once per test run with the restored Bicep CLI, parsed, and flattened
/// into its resources (modules compile to nested deployments whose templates hold the real resources).
/// </summary>
public class CompiledInfrastructure : IDisposable
{
    public const string MainTemplate = "infra/bicep/main.bicep";

    private readonly JsonDocument _document;

    public CompiledInfrastructure()
        : this(MainTemplate)
    {
    }

    protected CompiledInfrastructure(string template)
    {
        TemplatePath = template;
        Build = BicepCli.Run("build", template, "--stdout");
        if (Build.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build {template} failed: {Build.Describe()}");
        }
        _document = JsonDocument.Parse(Build.StandardOutput);
        Root = new TemplateScope(_document.RootElement, passedParameters: null, parent: null, moduleName: "main");
        Resources = Flatten(Root).ToList();
    }

    /// <summary>The .bicep file compiled, relative to the repository root.</summary>
    public string TemplatePath { get; }

    /// <summary>The bicep build run (its standard error carries any compiler or linter diagnostic).</summary>
    public ProcessResult Build { get; }

    public TemplateScope Root { get; }

    /// <summary>Every resource of every template, modules' deployments included.</summary>
    public IReadOnlyList<TemplateResource> Resources { get; }

    /// <summary>The raw compiled JSON text.</summary>
    public string Json => Build.StandardOutput;

    public IReadOnlyList<TemplateResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase)).ToList();

    public TemplateResource Single(string type)
    {
        var matches = OfType(type);
        return matches.Count == 1
            ? matches[0]
            : throw new InvalidOperationException($"Expected exactly one {type}, found {matches.Count}.");
    }

    public void Dispose()
    {
        _document.Dispose();
        GC.SuppressFinalize(this);
    }

    private static IEnumerable<TemplateResource> Flatten(TemplateScope scope)
    {
        foreach (var element in scope.Template.GetProperty("resources").EnumerateArray())
        {
            var resource = new TemplateResource(element, scope);
            yield return resource;
            if (resource.Type == "Microsoft.Resources/deployments")
            {
                var properties = element.GetProperty("properties");
                var nested = new TemplateScope(
                    properties.GetProperty("template"),
                    properties.TryGetProperty("parameters", out var passed) ? passed : null,
                    scope,
                    element.GetProperty("name").GetString()!);
                foreach (var inner in Flatten(nested))
                {
                    yield return inner;
                }
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class CompiledInfrastructureCollection : ICollectionFixture<CompiledInfrastructure>
{
    public const string Name = "compiled infrastructure";
}

/// <summary>
/// infra/bicep/uploads-subscription.bicep: deployed by the postdeploy hook, not by main.bicep, so it is
/// compiled on its own.
/// </summary>
public sealed class CompiledUploadsSubscription() : CompiledInfrastructure(UploadsSubscriptionTemplate)
{
    public const string UploadsSubscriptionTemplate = "infra/bicep/uploads-subscription.bicep";
}
