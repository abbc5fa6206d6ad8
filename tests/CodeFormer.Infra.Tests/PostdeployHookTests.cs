using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

/// <summary>
/// The postdeploy hooks run against a stand-in `az` (<see cref="FakeAzureCli"/>): the same behaviour is
/// required of infra/hooks/postdeploy.sh (run by a real POSIX sh, dash, as azd's `shell: sh` gets on
/// Debian/Ubuntu) and of its PowerShell twin (see the derived classes).
/// </summary>
public abstract class PostdeployHookTests : IDisposable
{
    private const string DeploymentCommand = "deployment|group|create";

    protected FakeAzureCli Az { get; } = new();

    /// <summary>Runs the hook with exactly these environment values set or removed.</summary>
    protected abstract ProcessResult RunHook(Dictionary<string, string?> environment);

    [Fact]
    public void Deploys_the_uploads_subscription_with_the_key_only_inside_a_private_file()
    {
        var run = RunHook(Az.Environment());

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Equal(2, Az.CallsTo("functionapp", "keys", "list").Count);
        var deployment = Assert.Single(Az.CallsTo(DeploymentCommand.Split('|')));
        Assert.Equal("uploads-blob-created", FakeAzureCli.ValueOf(deployment, "--name"));
        Assert.Equal("rg-test", FakeAzureCli.ValueOf(deployment, "--resource-group"));
        Assert.Equal(
            Path.GetFullPath(RepositoryRoot.Combine("infra", "bicep", "uploads-subscription.bicep")),
            Path.GetFullPath(FakeAzureCli.ValueOf(deployment, "--template-file")));
        var parameters = FakeAzureCli.ValuesOf(deployment, "--parameters");
        Assert.Contains("systemTopicName=evgst-test", parameters);
        Assert.Contains("uploadsContainerName=uploads", parameters);
        Assert.Contains("storageAccountName=sttest", parameters);
        Assert.Contains("deadLetterContainerName=events-deadletter", parameters);

        // The URL with the key went to az through a file, percent-encoded, and the file is gone.
        var secretFile = Assert.Single(Az.FilesHandedOver);
        Assert.Contains($"@{secretFile}", parameters);
        Assert.Contains(
            $"https://{FakeAzureCli.HostName}/runtime/webhooks/blobs?functionName=Host.Functions.EnqueueUploadedPhoto&code={FakeAzureCli.EncodedKey}",
            Az.FileContents, StringComparison.Ordinal);
        Assert.Contains("\"webhookEndpointUrl\"", Az.FileContents, StringComparison.Ordinal);
        Assert.False(File.Exists(secretFile), "The file holding the key must be deleted when the hook ends.");

        AssertKeyNeverExposed(run);
        AssertEveryCallNamesTheSubscription();
    }

    [Fact]
    public void Running_twice_deploys_the_same_subscription_again()
    {
        var first = RunHook(Az.Environment());
        var second = RunHook(Az.Environment());

        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first.Describe() + second.Describe());
        var names = Az.CallsTo(DeploymentCommand.Split('|')).Select(c => FakeAzureCli.ValueOf(c, "--name")).ToArray();
        Assert.Equal(["uploads-blob-created", "uploads-blob-created"], names);
    }

    [Fact]
    public void Missing_azd_value_fails_naming_it_before_calling_azure()
    {
        var values = Az.Environment();
        values["AZURE_SUBSCRIPTION_ID"] = null;

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("AZURE_SUBSCRIPTION_ID", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(Az.Calls);
    }

    [Fact]
    public void A_worker_still_on_the_placeholder_image_stops_the_hook_before_any_upload_is_connected()
    {
        var values = Az.Environment();
        values["FAKE_AZ_WORKER_IMAGE"] = "mcr.microsoft.com/azuredocs/containerapps-helloworld:latest";

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("containerapps-helloworld", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("azd deploy gpu-worker", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(Az.CallsTo("functionapp"));
        Assert.Empty(Az.CallsTo("deployment"));
    }

    [Fact]
    public void A_worker_whose_last_deployment_failed_stops_the_hook()
    {
        var values = Az.Environment();
        values["FAKE_AZ_WORKER_STATE"] = "Failed";

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'Failed'", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(Az.CallsTo("deployment"));
    }

    [Fact]
    public void A_worker_that_cannot_be_read_stops_the_hook_with_azs_error()
    {
        var values = Az.Environment();
        values["FAKE_AZ_WORKER_ERROR"] = "ERROR: (ResourceNotFound) The Resource 'Microsoft.App/containerApps/ca-gpu-test' was not found.";

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("(ResourceNotFound)", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(Az.CallsTo("functionapp"));
    }

    [Fact]
    public void Host_runtime_errors_while_the_host_starts_are_waited_out()
    {
        var values = Az.Environment();
        values["FAKE_AZ_KEYS_ERROR_CALLS"] = "2";
        values["FAKE_AZ_KEYS_ERROR"] = "ERROR: Encountered an error (ServiceUnavailable) from host runtime.";
        values["FAKE_AZ_KEY_FROM_CALL"] = "3";

        var run = RunHook(values);

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Equal(3, Az.CallsTo("functionapp", "keys", "list").Count);
        Assert.Contains("host runtime not ready", run.StandardOutput, StringComparison.Ordinal);
        Assert.Single(Az.CallsTo(DeploymentCommand.Split('|')));
    }

    [Fact]
    public void Any_other_error_reading_the_key_stops_the_hook_at_once_with_azs_message()
    {
        var values = Az.Environment();
        values["FAKE_AZ_KEYS_ERROR_CALLS"] = "99";
        values["FAKE_AZ_KEYS_ERROR"] =
            "ERROR: (AuthorizationFailed) The client 'me@example.com' does not have authorization to perform action 'Microsoft.Web/sites/host/listkeys/action'.";

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Single(Az.CallsTo("functionapp", "keys", "list"));
        Assert.Contains("(AuthorizationFailed)", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(Az.CallsTo("deployment"));
    }

    [Fact]
    public void Host_without_the_key_fails_after_the_attempts_and_names_the_trigger()
    {
        var values = Az.Environment();
        values["FAKE_AZ_KEY_FROM_CALL"] = "99";
        values["BLOBS_EXTENSION_KEY_ATTEMPTS"] = "3";

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("after 3 attempts", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("EnqueueUploadedPhoto", run.StandardError, StringComparison.Ordinal);
        Assert.Equal(3, Az.CallsTo("functionapp", "keys", "list").Count);
        Assert.Empty(Az.CallsTo("deployment"));
    }

    [Fact]
    public void A_failed_deployment_fails_the_hook_with_azs_message_and_still_removes_the_key_file()
    {
        var values = Az.Environment();
        values["FAKE_AZ_DEPLOY_ERROR"] = "ERROR: (Url validation) Webhook validation handshake failed for https://func-test.azurewebsites.net/runtime/webhooks/blobs.";

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Webhook validation handshake failed", run.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Assert.Single(Az.FilesHandedOver)));
        AssertKeyNeverExposed(run);
    }

    public void Dispose()
    {
        Az.Dispose();
        GC.SuppressFinalize(this);
    }

    private void AssertKeyNeverExposed(ProcessResult run)
    {
        foreach (var call in Az.Calls)
        {
            Assert.DoesNotContain(call, argument => argument.Contains("k3y", StringComparison.Ordinal));
        }
        Assert.DoesNotContain("k3y", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
    }

    private void AssertEveryCallNamesTheSubscription()
    {
        Assert.NotEmpty(Az.Calls);
        foreach (var call in Az.Calls)
        {
            Assert.Equal(FakeAzureCli.SubscriptionId, FakeAzureCli.ValueOf(call, "--subscription"));
        }
    }
}

/// <summary>infra/hooks/postdeploy.sh under /bin/sh.</summary>
public sealed class PosixPostdeployHookTests : PostdeployHookTests
{
    protected override ProcessResult RunHook(Dictionary<string, string?> environment) =>
        ProcessRunner.Run("/bin/sh", [RepositoryRoot.Combine("infra", "hooks", "postdeploy.sh")], RepositoryRoot.Path, environment);
}

/// <summary>
/// infra/hooks/postdeploy.ps1 in PowerShell 7 hosted in-process (Microsoft.PowerShell.SDK; no pwsh binary is
/// needed). PowerShell reads the process environment and the hook writes errors to the process's stderr, so
/// these tests set both for the duration of a run and are kept out of parallel execution.
/// </summary>
[Collection(PowerShellHookCollection.Name)]
public sealed class PowerShellPostdeployHookTests : PostdeployHookTests
{
    protected override ProcessResult RunHook(Dictionary<string, string?> environment) =>
        PowerShellHost.RunScript(RepositoryRoot.Combine("infra", "hooks", "postdeploy.ps1"), environment);
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PowerShellHookCollection
{
    public const string Name = "PowerShell hooks (process-wide environment)";
}
