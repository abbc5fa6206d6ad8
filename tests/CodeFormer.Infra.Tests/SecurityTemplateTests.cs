using System.Text.Json;
using System.Text.RegularExpressions;
using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

/// <summary>Keyless everywhere, least-privilege roles, no secrets out, azd tags on everything.</summary>
[Collection(CompiledInfrastructureCollection.Name)]
public sealed partial class SecurityTemplateTests(CompiledInfrastructure infrastructure)
{
    [Fact]
    public void Registry_admin_user_is_disabled()
    {
        var registry = infrastructure.Single("Microsoft.ContainerRegistry/registries");

        Assert.False(registry.Resolved("properties.adminUserEnabled").GetBoolean());
        // Basic by default (docs/deployment.md weighs Premium's artifact streaming against its fee).
        Assert.Equal("Basic", registry.ResolvedString("sku.name"));
    }

    [Fact]
    public void Application_insights_accepts_only_entra_authenticated_telemetry()
    {
        var component = infrastructure.Single("Microsoft.Insights/components");

        Assert.True(component.Resolved("properties.DisableLocalAuth").GetBoolean());
        Assert.Contains("Microsoft.OperationalInsights/workspaces", component.ResolvedString("properties.WorkspaceResourceId"), StringComparison.Ordinal);
    }

    [Fact]
    public void Job_events_topic_has_local_auth_disabled()
    {
        var topic = infrastructure.Single("Microsoft.EventGrid/topics");

        Assert.True(topic.Resolved("properties.disableLocalAuth").GetBoolean());
    }

    [Fact]
    public void Uploads_system_topic_watches_the_storage_account()
    {
        var systemTopic = infrastructure.Single("Microsoft.EventGrid/systemTopics");

        Assert.Equal("Microsoft.Storage.StorageAccounts", systemTopic.ResolvedString("properties.topicType"));
        Assert.Contains("Microsoft.Storage/storageAccounts", systemTopic.ResolvedString("properties.source"), StringComparison.Ordinal);
        // Its own identity dead-letters undeliverable events into the keyless account.
        Assert.Equal("SystemAssigned", systemTopic.ResolvedString("identity.type"));
    }

    [Fact]
    public void No_template_reads_keys_or_declares_secret_parameters()
    {
        foreach (var listFunction in new[] { "listKeys(", "listConnectionStrings(", "listAccountSas(", "listServiceSas(", "listCredentials(", "listSecrets(" })
        {
            Assert.DoesNotContain(listFunction, infrastructure.Json, StringComparison.OrdinalIgnoreCase);
        }
        Assert.DoesNotContain("\"securestring\"", infrastructure.Json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"secureObject\"", infrastructure.Json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void No_output_looks_like_a_secret()
    {
        var templates = new[] { infrastructure.Root.Template }
            .Concat(infrastructure.OfType("Microsoft.Resources/deployments")
                .Select(d => d.At("properties.template")));
        var outputCount = 0;
        foreach (var template in templates)
        {
            if (!template.TryGetProperty("outputs", out var outputs))
            {
                continue;
            }
            foreach (var output in outputs.EnumerateObject())
            {
                outputCount++;
                Assert.False(SecretLikeName().IsMatch(output.Name), $"Output '{output.Name}' is named like a secret.");
                var value = output.Value.GetProperty("value").GetRawText();
                Assert.False(SecretLikeValue().IsMatch(value), $"Output '{output.Name}' = {value} looks like a secret.");
                Assert.NotEqual("securestring", output.Value.GetProperty("type").GetString(), StringComparer.OrdinalIgnoreCase);
            }
        }
        Assert.True(outputCount > 20, $"Only {outputCount} outputs found: the walk over the templates is broken.");
    }

    [Fact]
    public void Outputs_give_azd_and_the_apps_what_they_need()
    {
        var outputs = infrastructure.Root.Template.GetProperty("outputs").EnumerateObject().Select(o => o.Name).ToHashSet();

        string[] required =
        [
            "AZURE_CONTAINER_REGISTRY_ENDPOINT", "AZURE_RESOURCE_GROUP", "AZURE_STORAGE_ACCOUNT_NAME",
            "AZURE_STORAGE_BLOB_ENDPOINT", "AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE", "AZURE_SERVICEBUS_QUEUE_NAME",
            "AZURE_EVENTGRID_JOB_EVENTS_TOPIC_ENDPOINT",
            // read by infra/hooks/postdeploy.*:
            "AZURE_FUNCTION_APP_NAME", "AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME", "AZURE_BLOB_TRIGGER_FUNCTION_NAME",
            "AZURE_STORAGE_UPLOADS_CONTAINER",
        ];
        Assert.All(required, name => Assert.Contains(name, outputs));
    }

    [Fact]
    public void Every_taggable_resource_carries_the_azd_environment_tag()
    {
        var taggable = infrastructure.Resources.Where(IsTaggable).ToList();

        Assert.True(taggable.Count >= 14, $"Only {taggable.Count} taggable resources found.");
        foreach (var resource in taggable)
        {
            var tags = TagReader.Read(resource);
            Assert.True(tags.TryGetValue("azd-env-name", out var value), $"{resource} has no azd-env-name tag.");
            Assert.Equal("[parameters('environmentName')]", value);
        }
    }

    [Fact]
    public void Every_role_assignment_goes_to_a_managed_identity_or_the_documented_deployer_grants()
    {
        var assignments = infrastructure.OfType("Microsoft.Authorization/roleAssignments");

        Assert.NotEmpty(assignments);
        foreach (var assignment in assignments)
        {
            var principal = assignment.At("properties.principalId").GetString()!;
            if (principal.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", StringComparison.Ordinal) ||
                principal.Contains("Microsoft.EventGrid/systemTopics", StringComparison.Ordinal))
            {
                Assert.Equal("ServicePrincipal", assignment.ResolvedString("properties.principalType"));
                Assert.False(assignment.Element.TryGetProperty("condition", out _), $"{assignment}: identity roles are always deployed.");
                continue;
            }
            // The only other principal: the user running azd, granted blob access to send photos and
            // fetch results (shared keys are off), read access for troubleshooting and receive on the job
            // queue to clear dead letters, only when a principal id is given; never anything account-wide.
            Assert.Equal("[parameters('principalId')]", principal);
            Assert.Equal("[not(empty(parameters('principalId')))]", assignment.Element.GetProperty("condition").GetString());
            Assert.Matches(
                "Microsoft.(Storage/storageAccounts/(blobServices/containers|tableServices/tables|queueServices/queues)|ServiceBus/namespaces/queues)'",
                assignment.At("scope").GetString()!);
        }
    }

    [Fact]
    public void Role_assignments_match_the_least_privilege_matrix()
    {
        var actual = infrastructure.OfType("Microsoft.Authorization/roleAssignments")
            .Select(Describe)
            .Order()
            .ToArray();

        // Any added role, widened scope or dropped condition changes a line here.
        string[] expected =
        [
            // Function app, on the Functions host's own account (no user data there):
            "functions: Storage Blob Data Owner on storageAccounts/host",
            "functions: Storage Queue Data Contributor on storageAccounts/host",
            "functions: Storage Table Data Contributor on storageAccounts/host",
            // Function app, on the data account: only what ingest needs.
            "functions: Storage Blob Data Owner without blob delete on containers/uploads",
            "functions: Storage Blob Data Reader on containers/results",
            "functions: Storage Blob Delegator on storageAccounts/data",
            "functions: Storage Table Data Contributor on tables/jobs",
            "functions: Storage Queue Data Contributor on queues/webjobs-blobtrigger-poison",
            "functions: Storage Queue Data Contributor on queues/webhook-notices",
            "functions: Storage Queue Data Contributor on queues/webhook-notices-poison",
            "functions: Azure Service Bus Data Sender on queues/restore-jobs",
            "functions: EventGrid Data Sender on topics",
            "functions: Monitoring Metrics Publisher on components",
            "worker: AcrPull on registries",
            "worker: Azure Service Bus Data Owner on queues/restore-jobs",
            "worker: Storage Blob Data Reader on containers/uploads",
            "worker: Storage Blob Data Reader on containers/models",
            "worker: Storage Blob Data Contributor without blob delete on containers/results",
            "worker: Storage Table Data Contributor on tables/jobs",
            "worker: EventGrid Data Sender on topics",
            "worker: Monitoring Metrics Publisher on components",
            "uploads-topic: Storage Blob Data Contributor on containers/events-deadletter",
            "user: Storage Blob Data Contributor on containers/uploads",
            "user: Storage Blob Data Contributor on containers/models",
            "user: Storage Blob Data Reader on containers/results",
            "user: Storage Table Data Reader on tables/jobs",
            "user: Storage Queue Data Reader on queues/webjobs-blobtrigger-poison",
            "user: Storage Blob Data Reader on containers/events-deadletter",
            "user: Azure Service Bus Data Receiver on queues/restore-jobs",
        ];
        Assert.Equal(expected.Order().ToArray(), actual);
    }

    [Fact]
    public void Nothing_is_granted_account_wide_on_the_data_account_but_the_blob_delegator()
    {
        var accountWide = infrastructure.OfType("Microsoft.Authorization/roleAssignments")
            .Select(Describe)
            .Where(d => d.EndsWith("on storageAccounts/data", StringComparison.Ordinal))
            .ToArray();

        // Storage Blob Delegator holds only generateUserDelegationKey/action: no data access by itself.
        Assert.Equal(["functions: Storage Blob Delegator on storageAccounts/data"], accountWide);
    }

    [Fact]
    public void The_no_delete_condition_blocks_exactly_blob_deletion()
    {
        var conditioned = infrastructure.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => a.At("properties").TryGetProperty("condition", out _))
            .ToList();

        Assert.Equal(2, conditioned.Count);
        foreach (var assignment in conditioned)
        {
            Assert.Equal("2.0", assignment.ResolvedString("properties.conditionVersion"));
            Assert.Equal(
                "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})))",
                assignment.ResolvedString("properties.condition"));
        }
    }

    // Built-in role definitions are the same GUIDs in every tenant.
    private static readonly Dictionary<string, string> BuiltInRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"] = "Storage Blob Data Reader",
        ["db58b8e5-c6ad-4a2a-8342-4190687cbf4a"] = "Storage Blob Delegator",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["19e7f393-937e-4f77-808e-94535e297925"] = "Storage Queue Data Reader",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["76199698-9eea-4c19-bc75-cec21354c6b6"] = "Storage Table Data Reader",
        ["69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"] = "Azure Service Bus Data Sender",
        ["4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"] = "Azure Service Bus Data Receiver",
        ["090c5cfd-751d-490a-894a-3ce6f1109419"] = "Azure Service Bus Data Owner",
        ["d5a91429-5739-47e2-a06b-3470a27159e7"] = "EventGrid Data Sender",
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "AcrPull",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
    };

    private static string Describe(TemplateResource assignment)
    {
        var principal = assignment.At("properties.principalId").GetString()!;
        var who = principal.Contains("functionsIdentityName", StringComparison.Ordinal) ? "functions"
            : principal.Contains("workerIdentityName", StringComparison.Ordinal) ? "worker"
            : principal.Contains("Microsoft.EventGrid/systemTopics", StringComparison.Ordinal) ? "uploads-topic"
            : principal == "[parameters('principalId')]" ? "user"
            : throw new InvalidOperationException($"{assignment}: unknown principal {principal}");

        var role = RoleVariable().Match(assignment.At("properties.roleDefinitionId").GetString()!);
        Assert.True(role.Success, $"{assignment}: role is not taken from the roles table.");
        var guid = assignment.Scope.Variable("roles")!.Value.GetProperty(role.Groups["name"].Value).GetString()!;
        Assert.True(BuiltInRoles.TryGetValue(guid, out var roleName), $"{assignment}: {guid} is not a known built-in data-plane role.");
        var restriction = assignment.At("properties").TryGetProperty("condition", out _) ? " without blob delete" : string.Empty;

        return $"{who}: {roleName}{restriction} on {DescribeScope(assignment)}";
    }

    // scope compiles to resourceId('<type>', parameters(...), ...): name the type's last segment; for
    // queues, containers and tables the resolved entity name; for accounts, which of the two.
    private static string DescribeScope(TemplateResource assignment)
    {
        var scope = ScopeExpression().Match(assignment.At("scope").GetString()!);
        Assert.True(scope.Success, $"{assignment}: unexpected scope {assignment.At("scope").GetString()}");
        var kind = scope.Groups["type"].Value.Split('/')[^1];
        var lastParameter = scope.Groups["last"].Value;
        return kind switch
        {
            "queues" or "containers" or "tables" => $"{kind}/{assignment.Scope.Parameter(lastParameter)!.Value.GetString()}",
            "storageAccounts" => lastParameter switch
            {
                "hostStorageAccountName" => "storageAccounts/host",
                "storageAccountName" => "storageAccounts/data",
                _ => throw new InvalidOperationException($"{assignment}: unknown storage account parameter {lastParameter}"),
            },
            _ => kind,
        };
    }

    private static bool IsTaggable(TemplateResource resource)
    {
        if (resource.Type is "Microsoft.Resources/deployments" ||
            resource.Type.StartsWith("Microsoft.Authorization/", StringComparison.Ordinal) ||
            resource.Type == "Microsoft.Insights/diagnosticSettings")
        {
            return false;
        }
        // Child resources (containers, queues, policies) take no tags of their own.
        return resource.Type.Count(c => c == '/') == 1;
    }

    [GeneratedRegex(@"(?i)(key|password|secret|connectionstring|sas|token|credential)")]
    private static partial Regex SecretLikeName();

    [GeneratedRegex(@"(?i)(list[A-Za-z]*\(|AccountKey=|SharedAccessKey=|SharedAccessSignature|sig=)")]
    private static partial Regex SecretLikeValue();

    [GeneratedRegex(@"variables\('roles'\)\.(?<name>[A-Za-z]+)")]
    private static partial Regex RoleVariable();

    [GeneratedRegex(@"^\[resourceId\('(?<type>[^']+)'.*parameters\('(?<last>[^']+)'\)\)\]$")]
    private static partial Regex ScopeExpression();
}
