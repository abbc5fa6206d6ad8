using CodeFormer.Testing;

namespace CodeFormer.Infra.Tests.Support;

/// <summary>
/// A stand-in `az` (a POSIX sh script) on PATH for running the postdeploy hooks: the Azure CLI cannot
/// reach Azure from CI. It records every call's arguments, expands `@file` arguments the way the real
/// CLI does (recording which file and what it held at call time), and answers like the real one. Its
/// behaviour is steered by FAKE_AZ_* environment values (see <see cref="Environment"/>).
/// </summary>
public sealed class FakeAzureCli : IDisposable
{
    public const string Key = "k3y/must+not=be-printed==";
    public const string EncodedKey = "k3y%2Fmust%2Bnot%3Dbe-printed%3D%3D";
    public const string HostName = "func-test.azurewebsites.net";
    public const string Registry = "crtest.azurecr.io";
    public const string SubscriptionId = "00000000-1111-2222-3333-444444444444";

    private readonly TemporaryDirectory _directory = new();

    public FakeAzureCli()
    {
        var script = Path.Combine(_directory.Path, "az");
        File.WriteAllText(script, $$"""
            #!/bin/sh
            # One line per call, arguments separated by '|'.
            printf '%s|' "$@" >> "$FAKE_AZ_LOG"; echo >> "$FAKE_AZ_LOG"
            # The real CLI replaces an argument @path by the file's content: keep the path and the content.
            for arg in "$@"; do
              case "$arg" in
                @*) path="${arg#@}"; echo "$path" >> "$FAKE_AZ_FILES"; cat "$path" >> "$FAKE_AZ_FILE_CONTENTS"; echo >> "$FAKE_AZ_FILE_CONTENTS" ;;
              esac
            done
            case "$1 $2" in
              "resource show")
                if [ -n "${FAKE_AZ_WORKER_ERROR:-}" ]; then echo "$FAKE_AZ_WORKER_ERROR" >&2; exit 1; fi
                printf '%s\t%s\n' "${FAKE_AZ_WORKER_STATE:-Succeeded}" "${FAKE_AZ_WORKER_IMAGE:-{{Registry}}/codeformer-cloud/gpu-worker-dev:azd-deploy-1}" ;;
              "functionapp keys")
                calls=$(grep -c '^functionapp|keys|' "$FAKE_AZ_LOG")
                if [ "$calls" -le "${FAKE_AZ_KEYS_ERROR_CALLS:-0}" ]; then echo "$FAKE_AZ_KEYS_ERROR" >&2; exit 1; fi
                if [ "$calls" -ge "${FAKE_AZ_KEY_FROM_CALL:-2}" ]; then echo "{{Key}}"; fi ;;
              "functionapp show") echo "{{HostName}}" ;;
              "deployment group")
                if [ -n "${FAKE_AZ_DEPLOY_ERROR:-}" ]; then echo "$FAKE_AZ_DEPLOY_ERROR" >&2; exit 1; fi ;;
              *) echo "unexpected az call: $*" >&2; exit 2 ;;
            esac
            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string LogPath => Path.Combine(_directory.Path, "az.log");

    public string FilesPath => Path.Combine(_directory.Path, "az.files");

    public string FileContentsPath => Path.Combine(_directory.Path, "az.file-contents");

    /// <summary>Every call's arguments, in order.</summary>
    public IReadOnlyList<string[]> Calls =>
        File.Exists(LogPath)
            ? File.ReadAllLines(LogPath).Select(line => line.TrimEnd('|').Split('|')).ToList()
            : [];

    public IReadOnlyList<string[]> CallsTo(params string[] command) =>
        Calls.Where(c => c.Length >= command.Length && c.Take(command.Length).SequenceEqual(command)).ToList();

    /// <summary>The files az was handed as @path, and what they held at the time.</summary>
    public IReadOnlyList<string> FilesHandedOver => File.Exists(FilesPath) ? File.ReadAllLines(FilesPath) : [];

    public string FileContents => File.Exists(FileContentsPath) ? File.ReadAllText(FileContentsPath) : string.Empty;

    /// <summary>The azd environment values the hooks read, plus the fake's own settings.</summary>
    public Dictionary<string, string?> Environment() => new()
    {
        ["PATH"] = $"{_directory.Path}:{System.Environment.GetEnvironmentVariable("PATH")}",
        ["FAKE_AZ_LOG"] = LogPath,
        ["FAKE_AZ_FILES"] = FilesPath,
        ["FAKE_AZ_FILE_CONTENTS"] = FileContentsPath,
        ["BLOBS_EXTENSION_KEY_DELAY_SECONDS"] = "0",
        ["AZURE_SUBSCRIPTION_ID"] = SubscriptionId,
        ["AZURE_RESOURCE_GROUP"] = "rg-test",
        ["AZURE_FUNCTION_APP_NAME"] = "func-test",
        ["AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME"] = "evgst-test",
        ["AZURE_BLOB_TRIGGER_FUNCTION_NAME"] = "EnqueueUploadedPhoto",
        ["AZURE_STORAGE_UPLOADS_CONTAINER"] = "uploads",
        ["AZURE_STORAGE_ACCOUNT_NAME"] = "sttest",
        ["AZURE_STORAGE_DEADLETTER_CONTAINER"] = "events-deadletter",
        ["AZURE_GPU_WORKER_APP_NAME"] = "ca-gpu-test",
        ["AZURE_CONTAINER_REGISTRY_ENDPOINT"] = Registry,
    };

    /// <summary>The value following an option in one call's arguments (the first, or all of them).</summary>
    public static string ValueOf(string[] arguments, string option)
    {
        var index = Array.IndexOf(arguments, option);
        Assert.True(index >= 0 && index + 1 < arguments.Length, $"az was called without {option}: {string.Join(' ', arguments)}");
        return arguments[index + 1];
    }

    public static IReadOnlyList<string> ValuesOf(string[] arguments, string option) =>
        arguments.Select((argument, index) => (argument, index))
            .Where(x => x.argument == option && x.index + 1 < arguments.Length)
            .Select(x => arguments[x.index + 1])
            .ToList();

    public void Dispose() => _directory.Dispose();
}
