using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

/// <summary>azure.yaml agrees with the template: azd finds each service's resource by its azd-service-name tag.</summary>
[Collection(CompiledInfrastructureCollection.Name)]
public sealed class AzdProjectTests(CompiledInfrastructure infrastructure)
{
    private readonly IReadOnlyDictionary<string, string> _azureYaml =
        SimpleYaml.ReadScalars(RepositoryRoot.Combine("azure.yaml"));

    [Fact]
    public void Infra_section_points_at_main_bicep()
    {
        Assert.Equal("bicep", _azureYaml["infra.provider"]);
        Assert.Equal("infra/bicep", _azureYaml["infra.path"]);
        Assert.Equal("main", _azureYaml["infra.module"]);
        Assert.True(File.Exists(RepositoryRoot.Combine("infra", "bicep", "main.bicep")));
    }

    [Fact]
    public void Each_service_has_a_resource_tagged_with_its_name_and_the_right_host()
    {
        Assert.Equal("function", _azureYaml["services.functions.host"]);
        Assert.Equal("./src/Functions", _azureYaml["services.functions.project"]);
        Assert.Equal("containerapp", _azureYaml["services.gpu-worker.host"]);
        Assert.Equal("./src/GpuRunner", _azureYaml["services.gpu-worker.project"]);
        Assert.Equal("./Dockerfile", _azureYaml["services.gpu-worker.docker.path"]);

        var tagged = infrastructure.Resources
            .Select(r => (Resource: r, Tags: TagReader.Read(r)))
            .Where(x => x.Tags.ContainsKey("azd-service-name"))
            .ToDictionary(x => x.Tags["azd-service-name"], x => x.Resource.Type);
        Assert.Equal("Microsoft.Web/sites", tagged["functions"]);
        Assert.Equal("Microsoft.App/containerApps", tagged["gpu-worker"]);
        Assert.Equal(2, tagged.Count);
    }

    [Fact]
    public void Postdeploy_hooks_exist_for_both_shells()
    {
        var posix = _azureYaml["services.functions.hooks.postdeploy.posix.run"];
        var windows = _azureYaml["services.functions.hooks.postdeploy.windows.run"];

        Assert.Equal("sh", _azureYaml["services.functions.hooks.postdeploy.posix.shell"]);
        Assert.Equal("pwsh", _azureYaml["services.functions.hooks.postdeploy.windows.shell"]);
        Assert.True(File.Exists(RepositoryRoot.Combine(posix.Split('/'))), $"{posix} is missing");
        Assert.True(File.Exists(RepositoryRoot.Combine(windows.Split('/'))), $"{windows} is missing");
    }
}
