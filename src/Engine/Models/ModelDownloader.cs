using System.Net;
using System.Net.Http.Headers;

namespace CodeFormer.Engine.Models;

/// <summary>
/// Downloads a model to "&lt;file&gt;.partial", resuming an earlier partial download with a Range request, checks
/// its size and SHA-256, and only then renames it into place, so a model file that exists is always whole.
/// Licence notices (S-Lab for CodeFormer) go to the notice callback before the first byte is requested.
/// </summary>
public sealed class ModelDownloader
{
    public const string PartialSuffix = ".partial";

    private readonly HttpClient _http;
    private readonly Action<string> _notice;

    /// <param name="http">The client to download with (injected: the host owns its lifetime and proxy settings).</param>
    /// <param name="notice">Receives licence notices the user must see; the CLI prints them.</param>
    public ModelDownloader(HttpClient http, Action<string>? notice = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _notice = notice ?? (_ => { });
    }

    /// <summary>How long the server may send nothing before the download is abandoned (the partial file is kept).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public async Task DownloadAsync(
        KnownModel model,
        string destinationPath,
        IProgress<(long Received, long? Total)>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(destinationPath);
        if (model.Acquisition != ModelAcquisition.Download)
        {
            throw new ModelUnavailableException(
                $"{model.Name} cannot be downloaded as {model.FileName}: {model.ManualStep}");
        }
        if (model.LicenceNotice is not null)
        {
            _notice(model.LicenceNotice);
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(destinationPath))!;
        Directory.CreateDirectory(directory);
        var partialPath = destinationPath + PartialSuffix;

        await FetchIntoPartialAsync(model, partialPath, progress, cancellationToken).ConfigureAwait(false);

        // No published hash: a hash pinned by an earlier first download still binds this one (trust on first use).
        var pinned = model.Sha256 is null ? ModelFileVerifier.ReadPin(destinationPath) : null;
        try
        {
            ModelFileVerifier.Verify(partialPath, pinned is null ? model : model with { Sha256 = pinned }, cancellationToken, writeMarker: false);
        }
        catch (ModelIntegrityException error)
        {
            // A wrong file must not be resumed next time either: start over from nothing.
            File.Delete(partialPath);
            throw new ModelIntegrityException(
                $"Download of {model.Name} from {model.Url} is corrupt and was deleted: {error.Message}",
                error.ExpectedSha256,
                error.ActualSha256);
        }
        // Same directory, so the rename is atomic: the final name appears only with verified content.
        File.Move(partialPath, destinationPath, overwrite: true);
        if (model.Sha256 is not null)
        {
            // A rename keeps the write time, so the marker spares the next run from hashing the file again.
            ModelFileVerifier.MarkVerified(destinationPath, model.Sha256);
        }
        else
        {
            ModelFileVerifier.DeleteMarker(destinationPath);
            var actual = pinned ?? ModelFileVerifier.ComputeSha256(destinationPath, cancellationToken);
            if (pinned is null)
            {
                ModelFileVerifier.WritePin(destinationPath, actual);
                _notice($"{model.Name}: no SHA-256 is published for {model.FileName}, so this first download was trusted and its hash pinned " +
                    $"(trust on first use): {actual} in {ModelFileVerifier.PinPathOf(destinationPath)}. Later runs refuse a file that differs.");
            }
            ModelFileVerifier.MarkVerified(destinationPath, actual);
        }
    }

    private async Task FetchIntoPartialAsync(
        KnownModel model,
        string partialPath,
        IProgress<(long Received, long? Total)>? progress,
        CancellationToken cancellationToken)
    {
        var targetPath = partialPath[..^PartialSuffix.Length];
        // FileShare.None: a second process downloading the same model fails here instead of interleaving bytes.
        await using var partial = new FileStream(partialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16, useAsync: true);
        var resumeFrom = partial.Length;
        if (model.SizeBytes is { } expected && resumeFrom > expected)
        {
            resumeFrom = 0; // Longer than the model can be: not a prefix of it.
        }
        if (model.SizeBytes is { } complete && resumeFrom == complete)
        {
            progress?.Report((resumeFrom, complete));
            return; // Fully fetched earlier but not yet verified: verification decides.
        }

        using var response = await RequestAsync(model, resumeFrom, targetPath, cancellationToken).ConfigureAwait(false);
        long writeFrom;
        long? total;
        switch (response.StatusCode)
        {
            case HttpStatusCode.PartialContent when resumeFrom > 0:
                var range = response.Content.Headers.ContentRange;
                if (range?.From != resumeFrom)
                {
                    throw new ModelUnavailableException(
                        $"Server for {model.Url} answered a resume from byte {resumeFrom} with range {range?.ToString() ?? "(none)"}.");
                }
                writeFrom = resumeFrom;
                total = range.Length ?? model.SizeBytes;
                break;
            case HttpStatusCode.OK:
                // The server ignored the Range header (or none was sent): the body is the whole file.
                writeFrom = 0;
                total = response.Content.Headers.ContentLength ?? model.SizeBytes;
                break;
            case HttpStatusCode.RequestedRangeNotSatisfiable when response.Content.Headers.ContentRange?.Length == resumeFrom:
                // The partial file already holds every byte the server has: verification decides.
                progress?.Report((resumeFrom, resumeFrom));
                return;
            default:
                var restartHint = resumeFrom > 0 ? $" Delete {partialPath} to restart from zero." : "";
                throw new ModelUnavailableException(
                    $"Cannot download {model.Name}: {model.Url} answered {(int)response.StatusCode} {response.ReasonPhrase}." +
                    $"{restartHint} {ManualInstructions(model, targetPath)}");
        }

        partial.SetLength(writeFrom);
        partial.Position = writeFrom;
        var received = writeFrom;
        progress?.Report((received, total));
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await ReadWithIdleTimeoutAsync(body, buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await partial.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                received += read;
                progress?.Report((received, total));
            }
        }
        catch (Exception error) when (error is IOException or HttpRequestException or TimeoutException)
        {
            await partial.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            throw new ModelUnavailableException(
                $"Download of {model.Name} from {model.Url} stopped after {received} bytes ({error.Message}). " +
                $"Run again to resume from {partialPath}.",
                error);
        }
        await partial.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> RequestAsync(KnownModel model, long resumeFrom, string targetPath, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, model.Url);
        if (resumeFrom > 0)
        {
            request.Headers.Range = new RangeHeaderValue(resumeFrom, null);
        }
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException error)
        {
            throw new ModelUnavailableException(
                $"Cannot download {model.Name} from {model.Url}: {error.Message}. {ManualInstructions(model, targetPath)}",
                error);
        }
    }

    /// <summary>
    /// One read that fails when the server sends nothing for <see cref="IdleTimeout"/>: HttpClient.Timeout stops
    /// applying once the headers arrived, and a stalled connection must not hang a CLI forever.
    /// </summary>
    private async Task<int> ReadWithIdleTimeoutAsync(Stream body, byte[] buffer, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(IdleTimeout);
        try
        {
            return await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no data for {IdleTimeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>The sentence every "could not get it" message ends with: what to fetch, from where, to where, with which hash.</summary>
    internal static string ManualInstructions(KnownModel model, string targetPath)
    {
        var source = model.Acquisition == ModelAcquisition.Download
            ? $"Download {model.Url}"
            : $"{model.ManualStep} Upstream weights: {model.Url}.";
        var hash = model.Sha256 is null ? "no SHA-256 is known for it" : $"its SHA-256 must be {model.Sha256}";
        var size = model.SizeBytes is null ? "" : $" ({model.SizeBytes} bytes)";
        return $"{source} and save it as {targetPath}{size}; {hash}.";
    }
}
