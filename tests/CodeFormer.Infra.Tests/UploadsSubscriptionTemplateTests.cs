using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

/// <summary>The Event Grid subscription the postdeploy hook deploys: BlobCreated under uploads/ → the webhook.</summary>
public sealed class UploadsSubscriptionTemplateTests(CompiledUploadsSubscription template) : IClassFixture<CompiledUploadsSubscription>
{
    private TemplateResource Subscription => template.Single("Microsoft.EventGrid/systemTopics/eventSubscriptions");

    [Fact]
    public void Builds_and_lints_without_a_finding()
    {
        Assert.True(string.IsNullOrWhiteSpace(template.Build.StandardError), $"bicep build reported:\n{template.Build.StandardError}");
        var lint = BicepCli.Run("lint", CompiledUploadsSubscription.UploadsSubscriptionTemplate);
        Assert.True(lint.ExitCode == 0 && string.IsNullOrWhiteSpace(lint.StandardOutput + lint.StandardError), lint.Describe());
    }

    [Fact]
    public void The_webhook_url_with_the_key_is_a_secure_parameter_used_as_is()
    {
        var parameters = template.Root.Template.GetProperty("parameters");

        Assert.Equal("securestring", parameters.GetProperty("webhookEndpointUrl").GetProperty("type").GetString());
        Assert.Equal("WebHook", Subscription.ResolvedString("properties.destination.endpointType"));
        Assert.Equal("[parameters('webhookEndpointUrl')]", Subscription.At("properties.destination.properties.endpointUrl").GetString());
        // Nothing else takes a secret, and nothing comes back out.
        Assert.Single(parameters.EnumerateObject(), p => p.Value.GetProperty("type").GetString() == "securestring");
        Assert.DoesNotContain("webhookEndpointUrl", template.Root.Template.GetProperty("outputs").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Only_blob_created_under_the_uploads_container_is_delivered()
    {
        var filter = Subscription.At("properties.filter");

        Assert.Equal(["Microsoft.Storage.BlobCreated"], filter.GetProperty("includedEventTypes").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal("[format('/blobServices/default/containers/{0}/', parameters('uploadsContainerName'))]", filter.GetProperty("subjectBeginsWith").GetString());
        Assert.Equal("EventGridSchema", Subscription.ResolvedString("properties.eventDeliverySchema"));
        // A fixed name: every run of the hook replaces the same subscription.
        Assert.Equal("[format('{0}/{1}', parameters('systemTopicName'), 'uploads-blob-created')]", Subscription.Name);
    }

    [Fact]
    public void Undeliverable_events_are_retried_for_a_day_then_dead_lettered_with_the_topics_identity()
    {
        Assert.Equal(30, Subscription.Resolved("properties.retryPolicy.maxDeliveryAttempts").GetInt32());
        Assert.Equal(1440, Subscription.Resolved("properties.retryPolicy.eventTimeToLiveInMinutes").GetInt32());

        var deadLetter = Subscription.At("properties.deadLetterWithResourceIdentity");
        Assert.Equal("SystemAssigned", deadLetter.GetProperty("identity").GetProperty("type").GetString());
        var destination = deadLetter.GetProperty("deadLetterDestination");
        Assert.Equal("StorageBlob", destination.GetProperty("endpointType").GetString());
        Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]",
            destination.GetProperty("properties").GetProperty("resourceId").GetString());
        Assert.Equal("[parameters('deadLetterContainerName')]", destination.GetProperty("properties").GetProperty("blobContainerName").GetString());
        // Classic dead-lettering would write with Event Grid's own access, which a keyless account refuses.
        Assert.False(Subscription.At("properties").TryGetProperty("deadLetterDestination", out _));
    }
}
