using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

[Collection(CompiledInfrastructureCollection.Name)]
public sealed class FunctionAppTemplateTests(CompiledInfrastructure infrastructure)
{
    private const string IdentityReference = "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities'";

    private TemplateResource App => infrastructure.Single("Microsoft.Web/sites");

    [Fact]
    public void Plan_is_flex_consumption()
    {
        var plan = infrastructure.Single("Microsoft.Web/serverfarms");

        Assert.Equal("FC1", plan.ResolvedString("sku.name"));
        Assert.Equal("FlexConsumption", plan.ResolvedString("sku.tier"));
        Assert.Equal("dotnet-isolated", App.ResolvedString("properties.functionAppConfig.runtime.name"));
    }

    [Fact]
    public void App_runs_as_a_user_assigned_identity_and_is_the_azd_functions_service()
    {
        Assert.Equal("UserAssigned", App.ResolvedString("identity.type"));
        var identity = Assert.Single(App.At("identity.userAssignedIdentities").EnumerateObject());
        Assert.Contains(IdentityReference, identity.Name, StringComparison.Ordinal);
        Assert.Equal("functions", TagReader.Read(App)["azd-service-name"]);
        Assert.True(App.Resolved("properties.httpsOnly").GetBoolean());
    }

    [Fact]
    public void Host_storage_connection_is_identity_based()
    {
        var settings = AppSettings();

        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Contains(IdentityReference, settings["AzureWebJobsStorage__clientId"], StringComparison.Ordinal);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.Equal("managedidentity", settings["ServiceBusConnection__credential"]);
        // The servicebus module's output (derived from the namespace's own endpoint).
        var serviceBus = settings["ServiceBusConnection__fullyQualifiedNamespace"];
        Assert.Contains("'Microsoft.Resources/deployments', 'servicebus')", serviceBus, StringComparison.Ordinal);
        Assert.EndsWith(".outputs.fullyQualifiedNamespace.value]", serviceBus, StringComparison.Ordinal);
        // Application Insights has local auth off: telemetry is sent with the identity's token.
        var telemetryAuth = settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"];
        Assert.Contains("ClientId={0};Authorization=AAD", telemetryAuth, StringComparison.Ordinal);
        Assert.Contains(IdentityReference, telemetryAuth, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_storage_is_its_own_account_and_storage_settings_name_the_data_account()
    {
        var settings = AppSettings();

        // AzureWebJobsStorage: the functions-host-storage module's account, not the data account.
        Assert.Contains("'functions-host-storage')", settings["AzureWebJobsStorage__accountName"], StringComparison.Ordinal);
        Assert.EndsWith(".outputs.storageAccountName.value]", settings["AzureWebJobsStorage__accountName"], StringComparison.Ordinal);
        // Storage__* (the blob trigger's Connection = "Storage" and the app's own clients): the data account.
        foreach (var name in new[] { "Storage__blobServiceUri", "Storage__tableServiceUri", "Storage__queueServiceUri" })
        {
            Assert.Contains("'Microsoft.Resources/deployments', 'storage')", settings[name], StringComparison.Ordinal);
        }
        Assert.Equal("managedidentity", settings["Storage__credential"]);
        Assert.Contains(IdentityReference, settings["Storage__clientId"], StringComparison.Ordinal);
        // The deployment package is in the host account too.
        var package = App.At("properties.functionAppConfig.deployment.storage.value").GetString()!;
        Assert.Contains("parameters('hostBlobEndpoint')", package, StringComparison.Ordinal);
        Assert.Contains("'functions-host-storage')", App.Scope.Parameter("hostBlobEndpoint")!.Value.GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public void The_settings_the_apps_read_are_all_there()
    {
        var settings = AppSettings();

        // Names agreed with the application code; renaming any breaks the app at start-up.
        string[] contract =
        [
            "AZURE_CLIENT_ID", "APPLICATIONINSIGHTS_CONNECTION_STRING",
            "Storage__blobServiceUri", "Storage__tableServiceUri", "Storage__queueServiceUri", "Storage__credential", "Storage__clientId",
            "ServiceBusConnection__fullyQualifiedNamespace", "ServiceBusConnection__credential", "ServiceBusConnection__clientId",
            "Jobs__queueName", "Jobs__tableName", "Jobs__uploadsContainer", "Jobs__resultsContainer", "JobEvents__topicEndpoint",
            "UploadSweepSchedule", "Jobs__uploadGraceSeconds",
        ];
        Assert.All(contract, name => Assert.Contains(name, settings.Keys));
    }

    [Fact]
    public void The_overdue_upload_sweep_runs_every_five_minutes_with_a_grace_after_the_upload_url()
    {
        var settings = AppSettings();

        // NCRONTAB with seconds (six fields), as the timer trigger reads it; a five-field cron would not start the host.
        Assert.Equal("0 */5 * * * *", settings["UploadSweepSchedule"]);
        Assert.Equal(6, settings["UploadSweepSchedule"].Split(' ').Length);
        var grace = int.Parse(settings["Jobs__uploadGraceSeconds"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(grace, 60, 3600);
    }

    [Fact]
    public void No_app_setting_carries_a_key()
    {
        foreach (var (name, value) in AppSettings())
        {
            Assert.DoesNotContain("AccountKey=", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("SharedAccessKey=", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("listKeys(", value, StringComparison.OrdinalIgnoreCase);
            Assert.False(name.EndsWith("Key", StringComparison.OrdinalIgnoreCase), $"App setting {name} looks like a key.");
        }
    }

    [Fact]
    public void Deployment_package_is_read_with_the_identity_and_basic_publishing_is_off()
    {
        var storage = App.At("properties.functionAppConfig.deployment.storage");

        Assert.Equal("blobContainer", storage.GetProperty("type").GetString());
        Assert.Equal("UserAssignedIdentity", storage.GetProperty("authentication").GetProperty("type").GetString());
        Assert.Contains(IdentityReference, storage.GetProperty("authentication").GetProperty("userAssignedIdentityResourceId").GetString(), StringComparison.Ordinal);

        var policies = infrastructure.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
        Assert.Equal(2, policies.Count);
        Assert.All(policies, p => Assert.False(p.Resolved("properties.allow").GetBoolean()));
    }

    private Dictionary<string, string> AppSettings() =>
        App.At("properties.siteConfig.appSettings").EnumerateArray().ToDictionary(
            s => s.GetProperty("name").GetString()!,
            s => App.Scope.ResolveString(s.GetProperty("value")));
}
