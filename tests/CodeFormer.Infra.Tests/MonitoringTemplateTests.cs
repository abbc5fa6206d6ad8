using System.Text.Json;
using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

/// <summary>Failures are visible: diagnostic settings into Log Analytics and alerts on the silent failures.</summary>
[Collection(CompiledInfrastructureCollection.Name)]
public sealed class MonitoringTemplateTests(CompiledInfrastructure infrastructure)
{
    [Fact]
    public void Every_service_on_a_jobs_path_sends_diagnostics_to_log_analytics()
    {
        var settings = infrastructure.OfType("Microsoft.Insights/diagnosticSettings");

        var targets = settings.Select(s => ScopeType(s)).Order().ToArray();
        string[] expected =
        [
            "Microsoft.App/containerApps",
            "Microsoft.App/managedEnvironments",
            "Microsoft.EventGrid/systemTopics",
            "Microsoft.EventGrid/topics",
            "Microsoft.ServiceBus/namespaces",
            "Microsoft.Storage/storageAccounts/blobServices",
            "Microsoft.Storage/storageAccounts/queueServices",
            "Microsoft.Storage/storageAccounts/tableServices",
            "Microsoft.Web/sites",
        ];
        Assert.Equal(expected, targets);
        foreach (var setting in settings)
        {
            Assert.Contains("Microsoft.OperationalInsights/workspaces", setting.ResolvedString("properties.workspaceId"), StringComparison.Ordinal);
            var sends = setting.At("properties").TryGetProperty("logs", out var logs) && setting.Scope.Resolve(logs).GetArrayLength() > 0
                || setting.At("properties").TryGetProperty("metrics", out var metrics) && setting.Scope.Resolve(metrics).GetArrayLength() > 0;
            Assert.True(sends, $"{setting} sends nothing.");
        }
        // Logs (not only metrics) from everything but the container app, whose logs come via its environment.
        Assert.All(settings.Where(s => ScopeType(s) != "Microsoft.App/containerApps"),
            s => Assert.Contains("\"allLogs\"", s.Resolved("properties.logs").GetRawText(), StringComparison.Ordinal));
    }

    [Fact]
    public void Dead_lettered_jobs_alert_watches_the_restore_queue()
    {
        var criterion = MetricCriterion("DeadletteredMessages");

        Assert.Equal("Microsoft.ServiceBus/namespaces", criterion.GetProperty("metricNamespace").GetString());
        var dimension = Assert.Single(criterion.GetProperty("dimensions").EnumerateArray());
        Assert.Equal("EntityName", dimension.GetProperty("name").GetString());
        var queue = Assert.Single(dimension.GetProperty("values").EnumerateArray());
        Assert.Equal("restore-jobs", Alert("DeadletteredMessages").Scope.ResolveString(queue));
        AssertFiresOnAnyOccurrence(criterion);
    }

    [Theory]
    [InlineData("DeadLetteredCount")]
    [InlineData("DroppedEventCount")]
    public void Undelivered_upload_events_alert(string metric)
    {
        var criterion = MetricCriterion(metric);

        Assert.Equal("Microsoft.EventGrid/systemTopics", criterion.GetProperty("metricNamespace").GetString());
        Assert.Equal("Total", criterion.GetProperty("timeAggregation").GetString());
        AssertFiresOnAnyOccurrence(criterion);
    }

    [Fact]
    public void Gpu_worker_restarts_alert()
    {
        var criterion = MetricCriterion("RestartCount");

        Assert.Equal("Microsoft.App/containerApps", criterion.GetProperty("metricNamespace").GetString());
        Assert.Equal("Total", criterion.GetProperty("timeAggregation").GetString());
        AssertFiresOnAnyOccurrence(criterion);
    }

    [Fact]
    public void Failed_jobs_alert_counts_the_workers_error_logs()
    {
        var rule = infrastructure.Single("Microsoft.Insights/scheduledQueryRules");
        var criterion = Assert.Single(rule.At("properties.criteria.allOf").EnumerateArray());

        var query = criterion.GetProperty("query").GetString()!;
        Assert.Contains("AppTraces", query, StringComparison.Ordinal);
        Assert.Contains("SeverityLevel >= 3", query, StringComparison.Ordinal);
        Assert.Contains("parameters('workerTelemetryRoleName')", query, StringComparison.Ordinal);
        Assert.Equal("Count", criterion.GetProperty("timeAggregation").GetString());
        AssertFiresOnAnyOccurrence(criterion);
        Assert.Contains("Microsoft.OperationalInsights/workspaces", rule.At("properties.scopes").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Alerts_notify_the_given_address_and_still_fire_without_one()
    {
        var group = infrastructure.Single("Microsoft.Insights/actionGroups");

        Assert.Equal("[not(empty(parameters('alertEmailAddress')))]", group.Element.GetProperty("condition").GetString());
        Assert.Contains("alertEmailAddress", group.At("properties.emailReceivers").GetRawText(), StringComparison.Ordinal);
        var alerts = infrastructure.OfType("Microsoft.Insights/metricAlerts");
        Assert.Equal(4, alerts.Count);
        Assert.All(alerts, a => Assert.False(a.Element.TryGetProperty("condition", out _), $"{a} must exist even without an e-mail address."));
        Assert.All(alerts, a => Assert.True(a.Resolved("properties.enabled").GetBoolean()));
        Assert.Equal("${AZURE_ALERT_EMAIL=}", MainParameters().GetProperty("alertEmailAddress").GetProperty("value").GetString());
    }

    private static void AssertFiresOnAnyOccurrence(JsonElement criterion)
    {
        Assert.Equal("GreaterThan", criterion.GetProperty("operator").GetString());
        Assert.Equal(0, criterion.GetProperty("threshold").GetInt32());
    }

    private TemplateResource Alert(string metric) =>
        Assert.Single(infrastructure.OfType("Microsoft.Insights/metricAlerts"),
            a => a.At("properties.criteria.allOf").EnumerateArray().Any(c => c.GetProperty("metricName").GetString() == metric));

    private JsonElement MetricCriterion(string metric) =>
        Assert.Single(Alert(metric).At("properties.criteria.allOf").EnumerateArray());

    // Diagnostic settings compile with scope = resourceId('<type>', ...) (or the symbolic parent for the
    // environment's own setting, which is declared with `scope: environment`).
    private static string ScopeType(TemplateResource setting)
    {
        var scope = setting.At("scope").GetString()!;
        var start = scope.IndexOf("resourceId('", StringComparison.Ordinal);
        Assert.True(start >= 0, $"{setting}: unexpected scope {scope}");
        start += "resourceId('".Length;
        return scope[start..scope.IndexOf('\'', start)];
    }

    private static JsonElement MainParameters()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepositoryRoot.Combine("infra", "bicep", "main.parameters.json")));
        return document.RootElement.GetProperty("parameters").Clone();
    }
}
