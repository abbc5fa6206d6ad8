using System.Text.Json;
using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

[Collection(CompiledInfrastructureCollection.Name)]
public sealed class StorageTemplateTests(CompiledInfrastructure infrastructure)
{
    private const string DataModule = "storage";
    private const string HostModule = "functions-host-storage";

    [Fact]
    public void Two_accounts_user_data_and_functions_host_both_accept_only_entra_authenticated_tls12_https_traffic()
    {
        var accounts = infrastructure.OfType("Microsoft.Storage/storageAccounts");

        Assert.Equal(new[] { DataModule, HostModule }.Order().ToArray(), accounts.Select(a => a.Scope.ModuleName).Order().ToArray());
        foreach (var account in accounts)
        {
            Assert.False(account.Resolved("properties.allowSharedKeyAccess").GetBoolean());
            Assert.False(account.Resolved("properties.allowBlobPublicAccess").GetBoolean());
            Assert.Equal("TLS1_2", account.ResolvedString("properties.minimumTlsVersion"));
            Assert.True(account.Resolved("properties.supportsHttpsTrafficOnly").GetBoolean());
            Assert.True(account.Resolved("properties.defaultToOAuthAuthentication").GetBoolean());
        }
        // Distinct names: the host account is not the data account under another module.
        var names = infrastructure.Root.Variable("names")!.Value;
        Assert.NotEqual(names.GetProperty("storageAccount").GetString(), names.GetProperty("hostStorageAccount").GetString());
    }

    [Fact]
    public void User_data_containers_live_in_the_data_account_and_the_functions_package_in_the_host_account()
    {
        var containers = infrastructure.OfType("Microsoft.Storage/storageAccounts/blobServices/containers");

        var byAccount = containers
            .GroupBy(c => c.Scope.ModuleName)
            .ToDictionary(g => g.Key, g => g.Select(ContainerName).Order().ToArray());
        Assert.Equal(["events-deadletter", "models", "results", "uploads"], byAccount[DataModule]);
        Assert.Equal(["functions-deployment"], byAccount[HostModule]);
        Assert.All(containers, c => Assert.Equal("None", c.ResolvedString("properties.publicAccess")));
    }

    [Fact]
    public void Deleted_user_data_is_gone_no_soft_delete_or_versions_keep_it()
    {
        var blobService = Assert.Single(infrastructure.OfType("Microsoft.Storage/storageAccounts/blobServices"), b => b.Scope.ModuleName == DataModule);

        Assert.False(blobService.Resolved("properties.deleteRetentionPolicy.enabled").GetBoolean());
        Assert.False(blobService.Resolved("properties.containerDeleteRetentionPolicy.enabled").GetBoolean());
        Assert.False(blobService.Resolved("properties.isVersioningEnabled").GetBoolean());
    }

    [Fact]
    public void Jobs_table_and_the_blob_trigger_poison_queue_exist_in_the_data_account()
    {
        var table = infrastructure.Single("Microsoft.Storage/storageAccounts/tableServices/tables");
        var queues = infrastructure.OfType("Microsoft.Storage/storageAccounts/queueServices/queues");
        var queue = Assert.Single(queues, q => q.Element.GetProperty("name").GetString()!.Contains("blobTriggerPoisonQueueName", StringComparison.Ordinal));

        Assert.Equal("jobs", LastNameSegment(table, "jobsTableName"));
        Assert.Equal(DataModule, table.Scope.ModuleName);
        // The name the Functions blob extension writes poison messages to (HostQueueNames.BlobTriggerPoisonQueue).
        Assert.Equal("webjobs-blobtrigger-poison", LastNameSegment(queue, "QueueName"));
        Assert.Equal(DataModule, queue.Scope.ModuleName);
        Assert.All(queues, q => Assert.Equal(DataModule, q.Scope.ModuleName));
    }

    [Fact]
    public void The_webhook_notice_queue_and_its_poison_queue_exist_under_the_names_the_Functions_app_uses()
    {
        var queues = infrastructure.OfType("Microsoft.Storage/storageAccounts/queueServices/queues");
        var notices = Assert.Single(queues, q => q.Element.GetProperty("name").GetString()!.Contains("'webhookNoticeQueueName'", StringComparison.Ordinal));
        var poison = Assert.Single(queues, q => q.Element.GetProperty("name").GetString()!.Contains("'webhookNoticePoisonQueueName'", StringComparison.Ordinal));

        // TerminalWebhookNotice.QueueName: the Functions app's queue trigger and sender use this name, and the queue
        // extension moves a message it failed on five times into "<queue>-poison".
        Assert.Equal("webhook-notices", LastNameSegment(notices, "webhookNoticeQueueName"));
        Assert.Equal("webhook-notices-poison", LastNameSegment(poison, "webhookNoticePoisonQueueName"));
    }

    [Fact]
    public void Lifecycle_deletes_uploads_results_and_dead_lettered_events_after_the_retention_parameter()
    {
        var (prefixes, days) = LifecycleRule(DataModule);

        // format('{0}/', parameters('xContainerName')): check each prefix is built from the container parameter.
        Assert.Equal(3, prefixes.Length);
        foreach (var container in new[] { "uploadsContainerName", "resultsContainerName", "deadLetterContainerName" })
        {
            Assert.Contains(prefixes, p => p.Contains(container, StringComparison.Ordinal) && p.Contains("'{0}/'", StringComparison.Ordinal));
        }
        Assert.Equal(7, days);
        Assert.True(infrastructure.Root.Template.GetProperty("parameters").TryGetProperty("retentionDays", out _));
    }

    [Fact]
    public void Lifecycle_deletes_the_blob_receipts_that_name_each_upload_on_the_same_schedule()
    {
        var (prefixes, days) = LifecycleRule(HostModule);

        Assert.Equal(["azure-webjobs-hosts/blobreceipts/"], prefixes);
        Assert.Equal(7, days);
    }

    private (string[] Prefixes, int Days) LifecycleRule(string module)
    {
        var policy = Assert.Single(infrastructure.OfType("Microsoft.Storage/storageAccounts/managementPolicies"), p => p.Scope.ModuleName == module);
        var rule = Assert.Single(policy.At("properties.policy.rules").EnumerateArray());
        var definition = rule.GetProperty("definition");

        Assert.True(rule.GetProperty("enabled").GetBoolean());
        var prefixes = definition.GetProperty("filters").GetProperty("prefixMatch").EnumerateArray()
            .Select(p => p.GetString()!)
            .ToArray();
        var days = definition.GetProperty("actions").GetProperty("baseBlob").GetProperty("delete")
            .GetProperty("daysAfterCreationGreaterThan");
        // Deleting by creation time: the promise holds whether or not anyone read the blob.
        Assert.Equal("[parameters('retentionDays')]", days.GetString());
        // ... and that parameter is main.bicep's retentionDays.
        return (prefixes, policy.Scope.Resolve(days).GetInt32());
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
