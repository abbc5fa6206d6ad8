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
    public void Environment_has_a_serverless_gpu_profile_defaulting_to_t4_and_the_worker_runs_on_it()
    {
        var profiles = Environment.At("properties.workloadProfiles").EnumerateArray()
            .ToDictionary(
                p => Environment.Scope.ResolveString(p.GetProperty("name")),
                p => Environment.Scope.ResolveString(p.GetProperty("workloadProfileType")));

        var workerProfile = Worker.ResolvedString("properties.workloadProfileName");
        Assert.True(profiles.ContainsKey(workerProfile), $"The worker's profile '{workerProfile}' is not in the environment: {string.Join(", ", profiles.Keys)}");
        Assert.Equal("Consumption-GPU-NC8as-T4", profiles[workerProfile]);
        Assert.Equal("Consumption", profiles["Consumption"]);
    }

    [Fact]
    public void Environment_logs_without_a_workspace_key()
    {
        Assert.Equal("azure-monitor", Environment.ResolvedString("properties.appLogsConfiguration.destination"));
        var diagnostics = infrastructure.Single("Microsoft.Insights/diagnosticSettings");
        Assert.Contains("Microsoft.OperationalInsights/workspaces", diagnostics.ResolvedString("properties.workspaceId"), StringComparison.Ordinal);
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
