using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using CodeFormer.GpuRunner.Settings;
using CodeFormer.Shared.Settings;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CodeFormer.GpuRunner.Models;

/// <summary>
/// Brings the models container onto local disk before the engine starts: reads the manifest (<c>SHA256SUMS</c>, lines
/// "&lt;sha256&gt;  &lt;file&gt;" as <c>sha256sum</c> writes them), downloads every listed file that is missing or differs,
/// hashing while it streams, and moves it into place only when the SHA-256 matches. A file that does not match stops
/// the worker naming the file and both hashes, so a truncated upload never becomes a model. The engine then resolves
/// its models from this directory offline and converts a checkpoint once through its model cache.
/// </summary>
public sealed class ModelFetcher(BlobServiceClient blobs, IOptions<JobsSettings> jobs, IOptions<WorkerSettings> settings, ILogger<ModelFetcher> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var container = blobs.GetBlobContainerClient(jobs.Value.ModelsContainer);
        var directory = Directory.CreateDirectory(settings.Value.ModelsDirectory).FullName;
        var manifest = await ReadManifestAsync(container, settings.Value.ModelManifest, cancellationToken).ConfigureAwait(false);
        foreach (var (name, sha256) in manifest)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path) && string.Equals(await HashFileAsync(path, cancellationToken).ConfigureAwait(false), sha256, StringComparison.OrdinalIgnoreCase))
            {
                logger.LogInformation("Model {Model} is present and verified (SHA-256 {Sha256})", name, sha256);
                continue;
            }
            await DownloadVerifiedAsync(container.GetBlobClient(name), path, sha256, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Parses <c>sha256sum</c> output; file names must be plain names (no folders, no "..").</summary>
    public static IReadOnlyList<(string Name, string Sha256)> ParseManifest(string text, string manifestName)
    {
        var entries = new List<(string, string)>();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var hash = space > 0 ? line[..space] : "";
            var name = space > 0 ? line[(space + 1)..].TrimStart(' ', '*') : "";
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            {
                throw new InvalidDataException($"{manifestName} line {lineNumber}: '{line}' does not start with a 64-digit hex SHA-256.");
            }
            if (name.Length == 0 || name != Path.GetFileName(name) || name is "." or "..")
            {
                throw new InvalidDataException($"{manifestName} line {lineNumber}: '{name}' is not a plain file name.");
            }
            entries.Add((name, hash.ToLowerInvariant()));
        }
        return entries.Count > 0 ? entries : throw new InvalidDataException($"{manifestName} lists no model files.");
    }

    private static async Task<IReadOnlyList<(string Name, string Sha256)>> ReadManifestAsync(BlobContainerClient container, string manifestName, CancellationToken cancellationToken)
    {
        try
        {
            var content = await container.GetBlobClient(manifestName).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return ParseManifest(content.Value.Content.ToString(), manifestName);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new InvalidOperationException(
                $"The models container '{container.Name}' has no manifest '{manifestName}'. Upload the models with it " +
                "(sha256sum * > SHA256SUMS in the models folder; see docs/deployment.md, 'Model files').", e);
        }
    }

    private async Task DownloadVerifiedAsync(BlobClient blob, string path, string expectedSha256, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        logger.LogInformation("Downloading model {Model} from {Container}", blob.Name, blob.BlobContainerName);
        string actual;
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var source = await blob.OpenReadAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            await using (var target = File.Create(partial))
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }
            actual = Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            File.Delete(partial);
            throw new InvalidOperationException($"The manifest lists model '{blob.Name}', but the models container '{blob.BlobContainerName}' does not have it.", e);
        }
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(partial);
            throw new InvalidDataException($"Model '{blob.Name}' from the models container has SHA-256 {actual}; the manifest says {expectedSha256}. Re-upload it.");
        }
        File.Move(partial, path, overwrite: true);
        logger.LogInformation("Model {Model} downloaded and verified (SHA-256 {Sha256})", blob.Name, actual);
    }

    private static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }
}
