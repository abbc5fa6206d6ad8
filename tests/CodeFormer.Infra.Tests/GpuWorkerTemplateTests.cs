using System.Text.Json;
using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

[Collection(CompiledInfrastructureCollection.Name)]
public sealed class GpuWorkerTemplateTests(CompiledInfrastructure infrastructure)
{
    private const string IdentityReference = "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities'";

    private TemplateResource Environment => infrastructure.Single("Microsoft.App/managedEnvironments");

    private TemplateResource Worker => infrastructure.Single("Microsoft.App/containerApps");

    [Fact]
    public void Gpu_profiles_are_named_after_their_type_so_a_switch_adds_a_profile()
    {
        var names = infrastructure.Root.Variable("gpuWorkloadProfileNames")!.Value.EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal("gpu-t4", names["Consumption-GPU-NC8as-T4"]);
        Assert.Equal("gpu-a100", names["Consumption-GPU-NC24-A100"]);
        // Every allowed type has its own name (no shared "gpu" profile retyped in place).
        var allowed = infrastructure.Root.Template.GetProperty("parameters").GetProperty("gpuWorkloadProfileType")
            .GetProperty("allowedValues").EnumerateArray().Select(v => v.GetString()!).Order().ToArray();
        Assert.Equal(allowed, names.Keys.Order().ToArray());
        Assert.Equal(names.Count, names.Values.Distinct().Count());
        Assert.Equal("Consumption-GPU-NC8as-T4", infrastructure.Root.Parameter("gpuWorkloadProfileType")!.Value.GetString());

        // The worker runs on the profile named for the selected type ...
        Assert.Equal("[variables('gpuWorkloadProfileNames')[parameters('gpuWorkloadProfileType')]]",
            Worker.Scope.ModuleParameterExpression("gpuWorkloadProfileName"));
        // ... which the environment declares next to Consumption, with any retained types, each under its own name.
        Assert.Equal("[concat(createArray(createObject('name', 'Consumption', 'workloadProfileType', 'Consumption')), parameters('gpuWorkloadProfiles'))]",
            Environment.At("properties.workloadProfiles").GetString());
        var profiles = infrastructure.Root.Variable("gpuWorkloadProfiles")!.Value.GetString()!;
        Assert.StartsWith("[map(concat(createArray(parameters('gpuWorkloadProfileType')), variables('retainedGpuTypes'))", profiles, StringComparison.Ordinal);
        Assert.Contains("'name', variables('gpuWorkloadProfileNames')[lambdaVariables('type')]", profiles, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_logs_without_a_workspace_key()
    {
        Assert.Equal("azure-monitor", Environment.ResolvedString("properties.appLogsConfiguration.destination"));
        var diagnostics = Assert.Single(infrastructure.OfType("Microsoft.Insights/diagnosticSettings"),
            d => d.Scope.ModuleName == "container-apps-environment");
        Assert.Contains("Microsoft.OperationalInsights/workspaces", diagnostics.ResolvedString("properties.workspaceId"), StringComparison.Ordinal);
    }

    [Fact]
    public void Provisioning_keeps_the_image_a_deployed_worker_runs_instead_of_the_placeholder()
    {
        // The placeholder is only for the very first provision, before azd deploys the real image.
        var passed = Worker.Scope.ModuleParameterExpression("imageName")!;
        Assert.StartsWith("[if(not(empty(parameters('gpuWorkerImageName'))), ", passed, StringComparison.Ordinal);
        Assert.Contains("'existing-worker-image'), '2025-04-01').outputs.image.value", passed, StringComparison.Ordinal);

        var reader = Assert.Single(infrastructure.OfType("Microsoft.Resources/deployments"), d => d.Name == "existing-worker-image");
        Assert.Equal("[bool(parameters('gpuWorkerExists'))]", reader.At("properties.parameters.exists.value").GetString());
        var output = reader.At("properties.template.outputs.image.value").GetString()!;
        Assert.Equal("[if(parameters('exists'), reference(resourceId('Microsoft.App/containerApps', parameters('appName')), '2025-01-01').template.containers[0].image, '')]", output);
        // It reads the app as it was before this deployment: it waits for nothing but the resource group.
        var waitsFor = Assert.Single(reader.Element.GetProperty("dependsOn").EnumerateArray()).GetString()!;
        Assert.StartsWith("[subscriptionResourceId('Microsoft.Resources/resourceGroups'", waitsFor, StringComparison.Ordinal);

        using var parameters = JsonDocument.Parse(File.ReadAllText(RepositoryRoot.Combine("infra", "bicep", "main.parameters.json")));
        Assert.Equal("${SERVICE_GPU_WORKER_RESOURCE_EXISTS=false}",
            parameters.RootElement.GetProperty("parameters").GetProperty("gpuWorkerExists").GetProperty("value").GetString());
    }

    [Fact]
    public void A_stopping_replica_gets_time_to_finish_or_abandon_its_jobs()
    {
        // The worker's own grace for in-flight jobs is 60 s (a typical job); the platform default of 30 s
        // would SIGKILL it mid-job. 90 s = 60 s + time to abandon the rest and flush telemetry.
        var grace = Worker.Resolved("properties.template.terminationGracePeriodSeconds").GetInt32();
        Assert.Equal(90, grace);
    }

    [Fact]
    public void Worker_reports_telemetry_under_the_role_name_the_failed_job_alert_watches()
    {
        var container = Assert.Single(Worker.At("properties.template.containers").EnumerateArray());
        var serviceName = container.GetProperty("env").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == "OTEL_SERVICE_NAME").GetProperty("value");

        Assert.Equal("gpu-worker", Worker.Scope.ResolveString(serviceName));
        var alert = infrastructure.Single("Microsoft.Insights/scheduledQueryRules");
        Assert.Equal("gpu-worker", alert.Scope.Parameter("workerTelemetryRoleName")!.Value.GetString());
    }

    [Fact]
    public void Worker_scales_from_zero()
    {
        Assert.Equal(0, Worker.Resolved("properties.template.scale.minReplicas").GetInt32());
        Assert.Equal(2, Worker.Resolved("properties.template.scale.maxReplicas").GetInt32());
    }

    [Fact]
    public void Keda_service_bus_rule_watches_the_restore_queue_with_the_managed_identity()
    {
        var rule = Assert.Single(Worker.At("properties.template.scale.rules").EnumerateArray());
        var custom = rule.GetProperty("custom");
        var metadata = custom.GetProperty("metadata");

        Assert.Equal("azure-servicebus", custom.GetProperty("type").GetString());
        Assert.Equal("restore-jobs", Worker.Scope.ResolveString(metadata.GetProperty("queueName")));
        Assert.Contains("serviceBusNamespaceName", metadata.GetProperty("namespace").GetString(), StringComparison.Ordinal);
        Assert.True(metadata.TryGetProperty("messageCount", out _), "messageCount is missing");
        Assert.True(metadata.TryGetProperty("activationMessageCount", out _), "activationMessageCount is missing");
        // Keyless: the scaler authenticates with the identity, not with a secret-backed auth entry.
        Assert.Contains(IdentityReference, custom.GetProperty("identity").GetString(), StringComparison.Ordinal);
        Assert.False(custom.TryGetProperty("auth", out _), "The scale rule must not use secret-based auth.");
    }

    [Fact]
    public void Worker_holds_no_secrets_and_pulls_its_image_with_the_identity()
    {
        var configuration = Worker.At("properties.configuration");
        Assert.False(configuration.TryGetProperty("secrets", out _), "The worker must not hold secrets.");

        var registry = Assert.Single(configuration.GetProperty("registries").EnumerateArray());
        Assert.Contains(IdentityReference, registry.GetProperty("identity").GetString(), StringComparison.Ordinal);
        Assert.False(registry.TryGetProperty("passwordSecretRef", out _));

        var container = Assert.Single(Worker.At("properties.template.containers").EnumerateArray());
        foreach (var variable in container.GetProperty("env").EnumerateArray())
        {
            Assert.False(variable.TryGetProperty("secretRef", out _), $"{variable.GetProperty("name")} uses a secret.");
        }
        Assert.Equal("UserAssigned", Worker.ResolvedString("identity.type"));
        Assert.Equal("gpu-worker", TagReader.Read(Worker)["azd-service-name"]);
    }

    [Fact]
    public void Startup_readiness_and_liveness_probe_the_health_endpoint()
    {
        var container = Assert.Single(Worker.At("properties.template.containers").EnumerateArray());
        var probes = container.GetProperty("probes").EnumerateArray()
            .ToDictionary(p => p.GetProperty("type").GetString()!);

        Assert.Equal(["Liveness", "Readiness", "Startup"], probes.Keys.Order().ToArray());
        foreach (var probe in probes.Values)
        {
            var http = probe.GetProperty("httpGet");
            Assert.Equal(8080, Worker.Scope.Resolve(http.GetProperty("port")).GetInt32());
            Assert.Equal("/healthz", Worker.Scope.ResolveString(http.GetProperty("path")));
        }
        // Container Apps rejects probes outside these ranges at deployment time.
        foreach (var (type, probe) in probes)
        {
            AssertInRangeIfSet(probe, type, "failureThreshold", 1, 10);
            AssertInRangeIfSet(probe, type, "initialDelaySeconds", 1, 60);
            AssertInRangeIfSet(probe, type, "periodSeconds", 1, 240);
            AssertInRangeIfSet(probe, type, "timeoutSeconds", 1, 240);
        }
        // A cold start downloads the models: the startup probe must allow minutes, not seconds.
        var startup = probes["Startup"];
        var allowedSeconds = startup.GetProperty("initialDelaySeconds").GetInt32()
            + startup.GetProperty("periodSeconds").GetInt32() * startup.GetProperty("failureThreshold").GetInt32();
        Assert.InRange(allowedSeconds, 120, 600);
    }

    private static void AssertInRangeIfSet(JsonElement probe, string type, string property, int low, int high)
    {
        if (probe.TryGetProperty(property, out var value))
        {
            Assert.True(value.GetInt32() >= low && value.GetInt32() <= high,
                $"{type} probe {property} = {value.GetInt32()} is outside Container Apps' range {low}..{high}.");
        }
    }

    [Fact]
    public void Worker_gets_the_whole_t4_replica()
    {
        var container = Assert.Single(Worker.At("properties.template.containers").EnumerateArray());
        var resources = container.GetProperty("resources");

        // cpu compiles to json(parameters('cpu')); the parameter resolves to main.bicep's size table.
        Assert.Equal("[json(parameters('cpu'))]", resources.GetProperty("cpu").GetString());
        var sizes = infrastructure.Root.Variable("gpuReplicaSizes")!.Value.GetProperty("Consumption-GPU-NC8as-T4");
        Assert.Equal("8.0", sizes.GetProperty("cpu").GetString());
        Assert.Equal("56Gi", sizes.GetProperty("memory").GetString());
        Assert.Equal(JsonValueKind.String, resources.GetProperty("memory").ValueKind);
    }
}
