using CodeFormer.Infra.Tests.Support;

namespace CodeFormer.Infra.Tests;

/// <summary>
/// infra/hooks/postdeploy.sh run by a real POSIX sh (dash, as azd's `shell: sh` gets on Debian/Ubuntu)
/// against a stand-in `az` on PATH: the Azure CLI cannot reach Azure from CI, so the stand-in records
/// its arguments and answers like the real one (a key only from the second listing, as when the host
/// is still starting).
/// </summary>
public sealed class PostdeployHookTests : IDisposable
{
    private const string Key = "k3y-must-not-be-printed";
    private const string HostName = "func-test.azurewebsites.net";

    private readonly string _directory = Directory.CreateTempSubdirectory("postdeploy-hook-").FullName;

    public PostdeployHookTests()
    {
        var fakeAz = Path.Combine(_directory, "az");
        File.WriteAllText(fakeAz, $$"""
            #!/bin/sh
            # One line per call, arguments separated by '|'.
            printf '%s|' "$@" >> "$FAKE_AZ_LOG"; echo >> "$FAKE_AZ_LOG"
            case "$1 $2" in
              "functionapp keys")
                calls=$(grep -c '^functionapp|keys|' "$FAKE_AZ_LOG")
                if [ "$calls" -ge "${FAKE_AZ_KEY_FROM_CALL:-2}" ]; then echo "{{Key}}"; fi ;;
              "functionapp show") echo "{{HostName}}" ;;
              "eventgrid system-topic") ;;
              *) echo "unexpected az call: $*" >&2; exit 2 ;;
            esac
            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(fakeAz, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private string LogPath => Path.Combine(_directory, "az.log");

    [Fact]
    public void Subscribes_the_blob_trigger_webhook_to_blob_created_under_uploads_without_printing_the_key()
    {
        var run = RunHook(AzdValues());

        Assert.True(run.ExitCode == 0, run.Describe());
        var calls = File.ReadAllLines(LogPath);
        Assert.Equal(2, calls.Count(c => c.StartsWith("functionapp|keys|list|", StringComparison.Ordinal)));
        var create = Assert.Single(calls, c => c.StartsWith("eventgrid|system-topic|event-subscription|create|", StringComparison.Ordinal));
        var arguments = create.Split('|');
        Assert.Equal(
            $"https://{HostName}/runtime/webhooks/blobs?functionName=Host.Functions.EnqueueUploadedPhoto&code={Key}",
            ValueOf(arguments, "--endpoint"));
        Assert.Equal("webhook", ValueOf(arguments, "--endpoint-type"));
        Assert.Equal("Microsoft.Storage.BlobCreated", ValueOf(arguments, "--included-event-types"));
        Assert.Equal("/blobServices/default/containers/uploads/", ValueOf(arguments, "--subject-begins-with"));
        Assert.Equal("evgst-test", ValueOf(arguments, "--system-topic-name"));
        Assert.Equal("rg-test", ValueOf(arguments, "--resource-group"));
        Assert.DoesNotContain(Key, run.StandardOutput + run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Running_twice_puts_the_same_subscription_again()
    {
        var first = RunHook(AzdValues());
        var second = RunHook(AzdValues());

        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first.Describe() + second.Describe());
        var names = File.ReadAllLines(LogPath)
            .Where(c => c.StartsWith("eventgrid|system-topic|event-subscription|create|", StringComparison.Ordinal))
            .Select(c => ValueOf(c.Split('|'), "--name"))
            .ToArray();
        Assert.Equal(["uploads-blob-created", "uploads-blob-created"], names);
    }

    [Fact]
    public void Missing_azd_value_fails_naming_it_before_calling_azure()
    {
        var values = AzdValues();
        values["AZURE_FUNCTION_APP_NAME"] = null;

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("AZURE_FUNCTION_APP_NAME", run.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(LogPath), "az must not be called when the environment is incomplete.");
    }

    [Fact]
    public void Host_without_the_key_fails_after_the_attempts_and_names_the_trigger()
    {
        var values = AzdValues();
        values["FAKE_AZ_KEY_FROM_CALL"] = "99";
        values["BLOBS_EXTENSION_KEY_ATTEMPTS"] = "3";

        var run = RunHook(values);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("after 3 attempts", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("EnqueueUploadedPhoto", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(File.ReadAllLines(LogPath), c => c.StartsWith("eventgrid|", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Dictionary<string, string?> AzdValues() => new()
    {
        ["PATH"] = $"{_directory}:{Environment.GetEnvironmentVariable("PATH")}",
        ["FAKE_AZ_LOG"] = LogPath,
        ["BLOBS_EXTENSION_KEY_DELAY_SECONDS"] = "0",
        ["AZURE_RESOURCE_GROUP"] = "rg-test",
        ["AZURE_FUNCTION_APP_NAME"] = "func-test",
        ["AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME"] = "evgst-test",
        ["AZURE_BLOB_TRIGGER_FUNCTION_NAME"] = "EnqueueUploadedPhoto",
        ["AZURE_STORAGE_UPLOADS_CONTAINER"] = "uploads",
    };

    private static ProcessResult RunHook(Dictionary<string, string?> environment) =>
        ProcessRunner.Run("/bin/sh", [RepositoryRoot.Combine("infra", "hooks", "postdeploy.sh")], RepositoryRoot.Path, environment);

    private static string ValueOf(string[] arguments, string option)
    {
        var index = Array.IndexOf(arguments, option);
        Assert.True(index >= 0 && index + 1 < arguments.Length, $"az was called without {option}: {string.Join(' ', arguments)}");
        return arguments[index + 1];
    }
}
