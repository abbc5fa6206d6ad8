using System.Text.Json;
using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

/// <summary>The template compiles and lints with zero diagnostics, with no linter rule silenced to get there.</summary>
[Collection(CompiledInfrastructureCollection.Name)]
public sealed class BicepToolchainTests(CompiledInfrastructure infrastructure)
{
    [Fact]
    public void Build_emits_no_warning_or_error()
    {
        Assert.Equal(0, infrastructure.Build.ExitCode);
        Assert.True(string.IsNullOrWhiteSpace(infrastructure.Build.StandardError),
            $"bicep build reported diagnostics:\n{infrastructure.Build.StandardError}");
    }

    [Fact]
    public void Lint_reports_no_finding()
    {
        var lint = BicepCli.Run("lint", CompiledInfrastructure.MainTemplate);

        Assert.True(lint.ExitCode == 0, $"bicep lint failed: {lint.Describe()}");
        Assert.True(string.IsNullOrWhiteSpace(lint.StandardOutput + lint.StandardError),
            $"bicep lint reported findings: {lint.Describe()}");
    }

    [Fact]
    public void Every_linter_rule_is_enforced_except_the_date_and_registry_dependent_ones()
    {
        // bicepconfig.json is JSON with comments.
        using var config = JsonDocument.Parse(
            File.ReadAllText(RepositoryRoot.Combine("infra", "bicep", "bicepconfig.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var rules = config.RootElement.GetProperty("analyzers").GetProperty("core").GetProperty("rules");

        var notEnforced = rules.EnumerateObject()
            .Where(rule => rule.Value.GetProperty("level").GetString() is not ("warning" or "error"))
            .Select(rule => rule.Name)
            .Order()
            .ToArray();

        Assert.True(config.RootElement.GetProperty("analyzers").GetProperty("core").GetProperty("enabled").GetBoolean());
        Assert.Equal(["use-recent-api-versions", "use-recent-module-versions"], notEnforced);
    }

    [Fact]
    public void Azd_parameters_file_feeds_the_environment_name_location_and_principal()
    {
        using var parameters = JsonDocument.Parse(
            File.ReadAllText(RepositoryRoot.Combine("infra", "bicep", "main.parameters.json")));
        var values = parameters.RootElement.GetProperty("parameters");
        var declared = infrastructure.Root.Template.GetProperty("parameters");

        Assert.Equal("${AZURE_ENV_NAME}", values.GetProperty("environmentName").GetProperty("value").GetString());
        Assert.Equal("${AZURE_LOCATION}", values.GetProperty("location").GetProperty("value").GetString());
        Assert.Equal("${AZURE_PRINCIPAL_ID}", values.GetProperty("principalId").GetProperty("value").GetString());
        foreach (var given in values.EnumerateObject())
        {
            Assert.True(declared.TryGetProperty(given.Name, out _),
                $"main.parameters.json sets '{given.Name}', which main.bicep does not declare.");
        }
    }
}
