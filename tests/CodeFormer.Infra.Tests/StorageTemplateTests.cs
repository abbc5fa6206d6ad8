using System.Text.Json;
using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

[Collection(CompiledInfrastructureCollection.Name)]
public sealed class StorageTemplateTests(CompiledInfrastructure infrastructure)
{
    private TemplateResource Account => infrastructure.Single("Microsoft.Storage/storageAccounts");

    [Fact]
    public void Account_accepts_only_entra_authenticated_tls12_https_traffic()
    {
        Assert.False(Account.Resolved("properties.allowSharedKeyAccess").GetBoolean());
        Assert.False(Account.Resolved("properties.allowBlobPublicAccess").GetBoolean());
        Assert.Equal("TLS1_2", Account.ResolvedString("properties.minimumTlsVersion"));
        Assert.True(Account.Resolved("properties.supportsHttpsTrafficOnly").GetBoolean());
        Assert.True(Account.Resolved("properties.defaultToOAuthAuthentication").GetBoolean());
    }

    [Fact]
    public void Containers_for_photos_results_models_and_the_functions_package_exist_and_are_private()
    {
        var containers = infrastructure.OfType("Microsoft.Storage/storageAccounts/blobServices/containers");

        var resolvedNames = containers.Select(ContainerName).Order().ToArray();
        Assert.Equal(["functions-deployment", "models", "results", "uploads"], resolvedNames);
        Assert.All(containers, c => Assert.Equal("None", c.ResolvedString("properties.publicAccess")));
    }

    [Fact]
    public void Jobs_table_exists()
    {
        var table = infrastructure.Single("Microsoft.Storage/storageAccounts/tableServices/tables");

        Assert.Equal("jobs", LastNameSegment(table, "jobsTableName"));
    }

    [Fact]
    public void Lifecycle_rule_deletes_uploads_and_results_after_the_retention_parameter()
    {
        var policy = infrastructure.Single("Microsoft.Storage/storageAccounts/managementPolicies");
        var rule = Assert.Single(policy.At("properties.policy.rules").EnumerateArray());
        var definition = rule.GetProperty("definition");

        Assert.True(rule.GetProperty("enabled").GetBoolean());
        var prefixes = definition.GetProperty("filters").GetProperty("prefixMatch").EnumerateArray()
            .Select(p => p.GetString()!)
            .ToArray();
        // format('{0}/', parameters('uploadsContainerName')): check each prefix is built from the container parameter.
        Assert.Contains(prefixes, p => p.Contains("uploadsContainerName", StringComparison.Ordinal) && p.Contains("'{0}/'", StringComparison.Ordinal));
        Assert.Contains(prefixes, p => p.Contains("resultsContainerName", StringComparison.Ordinal) && p.Contains("'{0}/'", StringComparison.Ordinal));
        Assert.Equal(2, prefixes.Length);

        var days = definition.GetProperty("actions").GetProperty("baseBlob").GetProperty("delete")
            .GetProperty("daysAfterCreationGreaterThan");
        Assert.Equal("[parameters('retentionDays')]", days.GetString());
        // ... and that parameter is main.bicep's retentionDays, which has a default.
        Assert.Equal(7, policy.Scope.Resolve(days).GetInt32());
        Assert.True(infrastructure.Root.Template.GetProperty("parameters").TryGetProperty("retentionDays", out _));
    }

    private static string ContainerName(TemplateResource container) =>
        LastNameSegment(container, parameterSuffix: "ContainerName");

    // Child names compile to format('{0}/{1}/{2}', parameters('account'), 'default', parameters('x')):
    // resolve the last parameter to the literal main.bicep passes.
    private static string LastNameSegment(TemplateResource resource, string parameterSuffix)
    {
        var expression = resource.Element.GetProperty("name").GetString()!;
        var start = expression.LastIndexOf("parameters('", StringComparison.Ordinal);
        Assert.True(start >= 0, $"{resource} has no parameter in its name: {expression}");
        var end = expression.IndexOf("')", start, StringComparison.Ordinal);
        var parameter = expression[(start + "parameters('".Length)..end];
        Assert.EndsWith(parameterSuffix, parameter, StringComparison.Ordinal);
        var value = resource.Scope.Parameter(parameter);
        Assert.True(value is { ValueKind: JsonValueKind.String }, $"{resource}: parameter {parameter} does not resolve to a literal.");
        return value!.Value.GetString()!;
    }
}
