using System.Text.RegularExpressions;
using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

/// <summary>
/// azure.yaml agrees with the template and with what azd does with it: azd finds each service's resource
/// by its azd-service-name tag, initializes every service before provisioning, and redeploys the worker
/// with the API version named here.
/// </summary>
[Collection(CompiledInfrastructureCollection.Name)]
public sealed partial class AzdProjectTests(CompiledInfrastructure infrastructure)
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
        Assert.Equal("dotnet", _azureYaml["services.functions.language"]);
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
    public void Gpu_worker_is_a_docker_service_so_provisioning_needs_no_project_file_for_it()
    {
        // azd initializes a .NET service before every provision by looking for exactly one *.*proj in its
        // project folder (framework_service_dotnet.go findProjectFile); a docker service's initialization
        // is a no-op, and its image comes from the Dockerfile alone.
        Assert.Equal("docker", _azureYaml["services.gpu-worker.language"]);
    }

    [Fact]
    public void Worker_is_redeployed_with_the_api_version_of_its_template_by_an_azd_that_keeps_keda_settings()
    {
        var worker = infrastructure.Single("Microsoft.App/containerApps");

        // Same version as the Bicep: azd then reads and writes the app as raw JSON of that version and keeps
        // the scale rule's identity, cooldownPeriod and pollingInterval (Azure/azure-dev#4264).
        Assert.Equal(worker.Element.GetProperty("apiVersion").GetString(), _azureYaml["services.gpu-worker.apiVersion"]);
        Assert.Equal(">= 1.20.0", _azureYaml["requiredVersions.azd"]);
    }

    [Fact]
    public void Postdeploy_hook_is_project_level_so_it_runs_only_after_every_service_deployed()
    {
        var posix = _azureYaml["hooks.postdeploy.posix.run"];
        var windows = _azureYaml["hooks.postdeploy.windows.run"];

        Assert.Equal("sh", _azureYaml["hooks.postdeploy.posix.shell"]);
        Assert.Equal("pwsh", _azureYaml["hooks.postdeploy.windows.shell"]);
        Assert.Equal("false", _azureYaml["hooks.postdeploy.posix.continueOnError"]);
        Assert.Equal("false", _azureYaml["hooks.postdeploy.windows.continueOnError"]);
        Assert.True(File.Exists(RepositoryRoot.Combine(posix.Split('/'))), $"{posix} is missing");
        Assert.True(File.Exists(RepositoryRoot.Combine(windows.Split('/'))), $"{windows} is missing");
        // A service-level hook would run right after that one service, before the worker is deployed.
        Assert.DoesNotContain(_azureYaml.Keys, key => key.StartsWith("services.", StringComparison.Ordinal) && key.Contains(".hooks.", StringComparison.Ordinal));
    }

    [Fact]
    public void Both_hooks_require_the_same_azd_values_and_each_is_an_output_of_main_bicep_or_set_by_azd()
    {
        var posix = File.ReadAllText(RepositoryRoot.Combine("infra", "hooks", "postdeploy.sh"));
        var windows = File.ReadAllText(RepositoryRoot.Combine("infra", "hooks", "postdeploy.ps1"));
        var posixRequired = AzureNames(Regex.Match(posix, @"for name in (?<list>.*?); do", RegexOptions.Singleline).Groups["list"].Value);
        var windowsRequired = AzureNames(Regex.Match(windows, @"\$required = @\((?<list>.*?)\)", RegexOptions.Singleline).Groups["list"].Value);

        Assert.True(posixRequired.Length >= 9, $"Only {posixRequired.Length} required values found in postdeploy.sh.");
        Assert.Equal(posixRequired, windowsRequired);
        var outputs = infrastructure.Root.Template.GetProperty("outputs").EnumerateObject().Select(o => o.Name).ToHashSet();
        // azd itself sets AZURE_SUBSCRIPTION_ID (and AZURE_ENV_NAME, AZURE_LOCATION) for hooks.
        Assert.All(posixRequired.Where(n => n != "AZURE_SUBSCRIPTION_ID"), name => Assert.Contains(name, outputs));
        // Everything the scripts read at all is required up front.
        Assert.Equal(posixRequired, AzureNames(posix));
        Assert.Equal(windowsRequired, AzureNames(windows));
    }

    [Fact]
    public void Docs_give_an_azd_free_provision_command_with_every_required_parameter()
    {
        var docs = File.ReadAllText(RepositoryRoot.Combine("docs", "deployment.md"));
        var command = Regex.Match(docs, @"az deployment sub create[^`]*?--template-file infra/bicep/main\.bicep.*?```", RegexOptions.Singleline);

        Assert.True(command.Success, "docs/deployment.md must show `az deployment sub create ... --template-file infra/bicep/main.bicep` for a tree without the service projects.");
        var required = infrastructure.Root.Template.GetProperty("parameters").EnumerateObject()
            .Where(p => !p.Value.TryGetProperty("defaultValue", out _))
            .Select(p => p.Name)
            .ToArray();
        Assert.NotEmpty(required);
        Assert.All(required, name => Assert.Contains($"{name}=", command.Value, StringComparison.Ordinal));
    }

    [Fact]
    public void Service_folders_that_exist_hold_what_azd_needs_to_build_them()
    {
        // Either service may land after this infrastructure; once its folder exists it must be buildable
        // the way azure.yaml says, or `azd provision`/`azd deploy` fails there.
        var functions = RepositoryRoot.Combine("src", "Functions");
        if (Directory.Exists(functions))
        {
            Assert.Single(Directory.GetFiles(functions, "*.*proj"));
        }
        var worker = RepositoryRoot.Combine("src", "GpuRunner");
        if (Directory.Exists(worker))
        {
            Assert.True(File.Exists(Path.Combine(worker, "Dockerfile")), "src/GpuRunner exists without the Dockerfile azure.yaml builds the worker image from.");
        }
        Assert.True(Directory.Exists(RepositoryRoot.Combine("src")));
    }

    private static string[] AzureNames(string text) =>
        AzureName().Matches(text).Select(m => m.Value).Distinct().Order().ToArray();

    [GeneratedRegex(@"\bAZURE_[A-Z0-9_]+\b")]
    private static partial Regex AzureName();
}
