using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

[Collection(CompiledInfrastructureCollection.Name)]
public sealed class ServiceBusTemplateTests(CompiledInfrastructure infrastructure)
{
    [Fact]
    public void Namespace_is_standard_tier_with_local_auth_disabled()
    {
        var ns = infrastructure.Single("Microsoft.ServiceBus/namespaces");

        // Duplicate detection, which the queue needs, does not exist in Basic.
        Assert.Equal("Standard", ns.ResolvedString("sku.name"));
        Assert.True(ns.Resolved("properties.disableLocalAuth").GetBoolean());
        Assert.Equal("1.2", ns.ResolvedString("properties.minimumTlsVersion"));
    }

    [Fact]
    public void Restore_queue_locks_for_a_job_dead_letters_and_drops_duplicates()
    {
        var queue = infrastructure.Single("Microsoft.ServiceBus/namespaces/queues");

        Assert.Equal("restore-jobs", queue.Scope.Parameter("queueName")!.Value.GetString());
        Assert.Equal("PT5M", queue.ResolvedString("properties.lockDuration"));
        Assert.Equal(5, queue.Resolved("properties.maxDeliveryCount").GetInt32());
        Assert.True(queue.Resolved("properties.deadLetteringOnMessageExpiration").GetBoolean());
        Assert.True(queue.Resolved("properties.requiresDuplicateDetection").GetBoolean());
        Assert.Equal("PT10M", queue.ResolvedString("properties.duplicateDetectionHistoryTimeWindow"));
        Assert.False(queue.Resolved("properties.requiresSession").GetBoolean());
    }
}
