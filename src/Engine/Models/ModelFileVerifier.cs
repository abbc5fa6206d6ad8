using System.Globalization;
using System.Security.Cryptography;

namespace CodeFormer.Engine.Models;

/// <summary>
/// Checks a model file against its known size and SHA-256, and remembers a success in "&lt;file&gt;.sha256-ok"
/// (hash, size, last-write time) so that a 376 MB checkpoint is hashed once, not on every run. A file that is
/// replaced or touched no longer matches its marker and is hashed again.
/// </summary>
internal static class ModelFileVerifier
{
    public const string MarkerSuffix = ".sha256-ok";

    /// <summary>
    /// Beside a model with no published SHA-256: the hash of its first download (trust on first use). Later runs and
    /// re-downloads must match it, so a file swapped after that first download is still caught.
    /// </summary>
    public const string PinSuffix = ".sha256-pinned";

    public static string PinPathOf(string modelPath) => modelPath + PinSuffix;

    /// <summary>The hash pinned for a model file at its first download, or null when none was.</summary>
    public static string? ReadPin(string modelPath)
    {
        var pin = PinPathOf(modelPath);
        return File.Exists(pin) ? File.ReadAllText(pin).Trim().ToLowerInvariant() : null;
    }

    public static void WritePin(string modelPath, string sha256) => File.WriteAllText(PinPathOf(modelPath), sha256 + "\n");

    public static string MarkerPathOf(string modelPath) => modelPath + MarkerSuffix;

    /// <summary>Verifies the file (using the marker when it still describes the file) and writes the marker on success.</summary>
    public static void Verify(string path, KnownModel model, CancellationToken cancellationToken, bool writeMarker = true)
    {
        var file = new FileInfo(path);
        if (model.SizeBytes is { } expectedSize && file.Length != expectedSize)
        {
            throw new ModelIntegrityException(
                $"Model file {path} has {file.Length} bytes; {model.Name} should have {expectedSize} bytes.",
                model.Sha256,
                actualSha256: null);
        }
        var expected = model.Sha256 ?? ReadPin(path);
        if (expected is null || HasValidMarker(file, expected))
        {
            return;
        }
        var actual = ComputeSha256(path, cancellationToken);
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            var source = model.Sha256 is null ? $"the SHA-256 pinned at its first download ({PinPathOf(path)})" : "";
            throw new ModelIntegrityException(
                $"Model file {path} has SHA-256 {actual}; {model.Name} should have {expected}{(source.Length > 0 ? ", " + source : "")}.",
                expected,
                actual);
        }
        if (writeMarker)
        {
            WriteMarker(file, actual);
        }
    }

    public static string ComputeSha256(string path, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static void DeleteMarker(string modelPath) => File.Delete(MarkerPathOf(modelPath));

    private static bool HasValidMarker(FileInfo file, string expectedSha256)
    {
        var markerPath = MarkerPathOf(file.FullName);
        if (!File.Exists(markerPath))
        {
            return false;
        }
        var parts = File.ReadAllText(markerPath).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 3
            && string.Equals(parts[0], expectedSha256, StringComparison.OrdinalIgnoreCase)
            && parts[1] == file.Length.ToString(CultureInfo.InvariantCulture)
            && parts[2] == file.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Records that the file (as it is now) has this hash; used after a download verified it under another name.</summary>
    public static void MarkVerified(string path, string sha256) => WriteMarker(new FileInfo(path), sha256);

    private static void WriteMarker(FileInfo file, string sha256)
    {
        file.Refresh();
        File.WriteAllText(
            MarkerPathOf(file.FullName),
            string.Create(CultureInfo.InvariantCulture, $"{sha256} {file.Length} {file.LastWriteTimeUtc.Ticks}\n"));
    }
}
