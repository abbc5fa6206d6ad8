namespace CodeFormer.Engine.Models;

/// <summary>
/// Finds model files on a user's machine: an explicit path wins; otherwise the cache directory (option,
/// then CODEFORMER_MODELS, then ~/.cache/codeformer-cloud) holds verified copies, downloaded on demand when a
/// downloader is given. Without one, a missing file is a <see cref="ModelUnavailableException"/> that says exactly
/// what to fetch, from where, to which path, with which SHA-256.
/// </summary>
public sealed class ModelCache
{
    public const string DirectoryVariable = "CODEFORMER_MODELS";

    private readonly ModelDownloader? _downloader;

    /// <param name="directory">Cache directory; null means CODEFORMER_MODELS or ~/.cache/codeformer-cloud.</param>
    /// <param name="downloader">Null keeps the cache offline: nothing is ever downloaded.</param>
    public ModelCache(string? directory = null, ModelDownloader? downloader = null)
    {
        Directory = Path.GetFullPath(directory ?? DefaultDirectory());
        _downloader = downloader;
    }

    public string Directory { get; }

    public bool CanDownload => _downloader is not null;

    public static string DefaultDirectory()
    {
        var configured = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "codeformer-cloud");
    }

    public string PathFor(KnownModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Path.Combine(Directory, model.FileName);
    }

    /// <summary>Resolves without downloading: explicit path, else a verified cached copy, else an explanation.</summary>
    public string Resolve(KnownModel model, string? explicitPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (explicitPath is not null)
        {
            return ResolveExplicit(model, explicitPath);
        }
        var cached = PathFor(model);
        if (File.Exists(cached))
        {
            VerifyCached(model, cached, cancellationToken);
            return cached;
        }
        throw Unavailable(model, cached, "it is not in the model cache");
    }

    /// <summary>As <see cref="Resolve"/>, but downloads a missing (or corrupt) cached file when a downloader was given.</summary>
    public async Task<string> ResolveAsync(
        KnownModel model,
        string? explicitPath,
        IProgress<(long Received, long? Total)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (explicitPath is not null)
        {
            return ResolveExplicit(model, explicitPath);
        }
        var cached = PathFor(model);
        if (File.Exists(cached))
        {
            try
            {
                VerifyCached(model, cached, cancellationToken);
                return cached;
            }
            catch (ModelIntegrityException) when (_downloader is not null && model.Acquisition == ModelAcquisition.Download)
            {
                // A corrupt cached copy is replaced by a fresh download.
                File.Delete(cached);
                ModelFileVerifier.DeleteMarker(cached);
            }
        }
        if (_downloader is null || model.Acquisition != ModelAcquisition.Download)
        {
            throw Unavailable(model, cached, _downloader is null ? "it is not in the model cache and downloads are off" : "it is not in the model cache");
        }
        await _downloader.DownloadAsync(model, cached, progress, cancellationToken).ConfigureAwait(false);
        return cached;
    }

    private static string ResolveExplicit(KnownModel model, string explicitPath)
    {
        // An explicit path is the user's decision (their own export, a fine-tuned copy): it is not hash-checked.
        var full = Path.GetFullPath(explicitPath);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The {model.Name} model file given explicitly does not exist: {full}", full);
        }
        return full;
    }

    private static void VerifyCached(KnownModel model, string cached, CancellationToken cancellationToken)
    {
        try
        {
            ModelFileVerifier.Verify(cached, model, cancellationToken);
        }
        catch (ModelIntegrityException error)
        {
            var advice = model.Acquisition == ModelAcquisition.Download
                ? $"Delete it and download {model.Url} again."
                : "If it is your own export, pass it as an explicit path instead of placing it in the cache.";
            throw new ModelIntegrityException($"{error.Message} {advice}", error.ExpectedSha256, error.ActualSha256);
        }
    }

    private static ModelUnavailableException Unavailable(KnownModel model, string target, string why) =>
        new($"The {model.Name} model is unavailable: {why}. {ModelDownloader.ManualInstructions(model, target)}");
}
