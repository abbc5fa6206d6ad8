using System.Net;
using CodeFormer.Shared.Storage;
using CodeFormer.Shared.Webhooks;

namespace CodeFormer.Shared.Tests;

public sealed class WebhookTests
{
    [Theory]
    [InlineData("https://127.0.0.1/hook", "127.0.0.1")]
    [InlineData("https://10.0.0.5/hook", "10.0.0.5")]
    [InlineData("https://169.254.169.254/latest/meta-data", "169.254.169.254")]
    [InlineData("https://192.168.1.10/", "192.168.1.10")]
    [InlineData("https://172.20.0.1/", "172.20.0.1")]
    [InlineData("https://[::1]/", "::1")]
    [InlineData("https://[fd00::1]/", "fd00::1")]
    [InlineData("https://[::ffff:10.0.0.5]/", "10.0.0.5")]
    [InlineData("https://168.63.129.16/", "168.63.129.16")]
    public async Task Webhook_urls_to_non_public_addresses_are_refused(string url, string address)
    {
        var reason = await new WebhookUrlPolicy().CheckAsync(url);
        Assert.NotNull(reason);
        Assert.Contains("not a public address", reason);
        Assert.Contains(IPAddress.Parse(address).ToString().Split(':')[^1].Split('.')[0], reason);
    }

    [Fact]
    public async Task Plain_http_webhooks_are_refused()
    {
        var reason = await new WebhookUrlPolicy().CheckAsync("http://example.com/hook");
        Assert.Contains("https", reason);
    }

    [Fact]
    public async Task Host_names_resolving_to_private_addresses_are_refused_and_public_ones_accepted()
    {
        var policy = new WebhookUrlPolicy(resolve: (host, _) => Task.FromResult(host == "internal.example"
            ? new[] { IPAddress.Parse("20.1.2.3"), IPAddress.Parse("10.1.2.3") }
            : new[] { IPAddress.Parse("20.1.2.3") }));
        Assert.Contains("10.1.2.3", await policy.CheckAsync("https://internal.example/hook"));
        Assert.Null(await policy.CheckAsync("https://hooks.example/hook"));
    }

    [Fact]
    public async Task The_development_setting_allows_local_http_receivers()
    {
        Assert.Null(await new WebhookUrlPolicy(allowPrivateAddresses: true).CheckAsync("http://127.0.0.1:5000/hook"));
        Assert.NotNull(await new WebhookUrlPolicy(allowPrivateAddresses: true).CheckAsync("ftp://127.0.0.1/hook"));
    }

    [Fact]
    public void Standard_webhooks_signature_matches_the_specification_example()
    {
        // The example of the Standard Webhooks reference libraries.
        const string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        var timestamp = DateTimeOffset.FromUnixTimeSeconds(1614265330);
        var signature = WebhookSigner.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp, """{"test": 2432232314}""");
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
        Assert.True(WebhookSigner.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp, """{"test": 2432232314}""", "v1,bogus " + signature));
        Assert.False(WebhookSigner.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp, """{"test": 1}""", signature));
    }

    [Theory]
    [InlineData(60, 15)]
    [InlineData(15, 15)]
    [InlineData(5, 5)]
    [InlineData(0, 1)]
    public void Sas_lifetimes_are_clamped_to_at_most_fifteen_minutes(int requestedMinutes, int grantedMinutes) =>
        Assert.Equal(TimeSpan.FromMinutes(grantedMinutes), BlobSasIssuer.ClampLifetime(TimeSpan.FromMinutes(requestedMinutes)));
}
