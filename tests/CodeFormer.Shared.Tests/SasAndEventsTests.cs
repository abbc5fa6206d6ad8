using System.Web;
using Azure;
using Azure.Messaging.EventGrid;
using Azure.Storage.Blobs;
using CodeFormer.Service.Testing;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Storage;

namespace CodeFormer.Shared.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class SasAndEventsTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task An_upload_sas_writes_one_blob_and_nothing_else()
    {
        var service = fixture.Azurite.CreateBlobServiceClient();
        var container = service.GetBlobContainerClient("uploads" + Guid.NewGuid().ToString("N")[..8]);
        await container.CreateAsync();
        await container.GetBlobClient("acme/existing.jpg").UploadAsync(BinaryData.FromString("secret"));
        var issuer = new BlobSasIssuer(service);

        var url = await issuer.IssueUploadAsync(container.Name, "acme/api-x", TimeSpan.FromHours(2));
        var expiry = DateTimeOffset.Parse(HttpUtility.ParseQueryString(url.Query)["se"]!);
        Assert.InRange(expiry - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15));

        var viaSas = new BlobClient(url);
        await viaSas.UploadAsync(BinaryData.FromString("photo"));
        Assert.Equal("photo", (await container.GetBlobClient("acme/api-x").DownloadContentAsync()).Value.Content.ToString());
        // Write only: it cannot read back what it wrote…
        var read = await Assert.ThrowsAsync<RequestFailedException>(() => viaSas.DownloadContentAsync());
        Assert.Equal(403, read.Status);
        // …nor write any other blob with the same signature.
        var other = new BlobUriBuilder(url) { BlobName = "acme/existing.jpg" }.ToUri();
        var write = await Assert.ThrowsAsync<RequestFailedException>(() => new BlobClient(other).UploadAsync(BinaryData.FromString("x"), overwrite: true));
        Assert.Equal(403, write.Status);
    }

    [Fact]
    public async Task A_read_sas_reads_and_cannot_write()
    {
        var service = fixture.Azurite.CreateBlobServiceClient();
        var container = service.GetBlobContainerClient("results" + Guid.NewGuid().ToString("N")[..8]);
        await container.CreateAsync();
        await container.GetBlobClient("acme/r.png").UploadAsync(BinaryData.FromString("result"));
        var url = await new BlobSasIssuer(service).IssueReadAsync(container.Name, "acme/r.png", TimeSpan.FromMinutes(5));
        var expiry = DateTimeOffset.Parse(HttpUtility.ParseQueryString(url.Query)["se"]!);
        Assert.InRange(expiry - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        Assert.Equal("result", (await new BlobClient(url).DownloadContentAsync()).Value.Content.ToString());
        var write = await Assert.ThrowsAsync<RequestFailedException>(() => new BlobClient(url).UploadAsync(BinaryData.FromString("x"), overwrite: true));
        Assert.Equal(403, write.Status);
    }

    [Fact]
    public async Task Job_events_reach_the_topic_as_cloud_events()
    {
        await using var receiver = new CloudEventReceiver();
        var publisher = new JobEventPublisher(new EventGridPublisherClient(receiver.Endpoint, new AzureKeyCredential(CloudEventReceiver.AccessKey), new EventGridPublisherClientOptions { Retry = { MaxRetries = 0 } }));
        var job = new JobRecord
        {
            JobId = JobIds.NewRandom(), TenantId = "acme", State = JobState.Rejected, Origin = JobOrigin.DirectUpload,
            Options = new JobOptions(), CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            InputContainer = "uploads", InputBlobName = "acme/x", RejectionRule = "MaxPixels", Reason = "too big",
        };
        await publisher.PublishAsync(JobEventKind.Rejected, job);
        var received = Assert.Single(receiver.Events);
        Assert.Equal("CodeFormer.Job.Rejected", received.Type);
        Assert.Equal($"/tenants/acme/jobs/{job.JobId}", received.Subject);
        Assert.Equal("MaxPixels", JobEvents.ReadData(received).Rule);
        Assert.Equal(CloudEventReceiver.AccessKey, Assert.Single(receiver.KeysSeen));

        receiver.Failing = true;
        await Assert.ThrowsAsync<RequestFailedException>(() => publisher.PublishAsync(JobEventKind.Rejected, job));
    }
}
