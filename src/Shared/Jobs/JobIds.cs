using System.Security.Cryptography;
using System.Text;

namespace CodeFormer.Shared.Jobs;

/// <summary>
/// Job identifiers: 32 lower-case hex digits (fit a Service Bus MessageId, a table key and a blob name).
/// A direct upload's id is derived from the upload itself, so a re-delivered BlobCreated event or a retried
/// function lands on the same job instead of making a second one.
/// </summary>
public static class JobIds
{
    public const int Length = 32;

    public static string NewRandom() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(Length / 2));

    /// <summary>
    /// The id of the job for one version of one blob: the same container, name and version (the version id when
    /// versioning is on, else the ETag) always give the same id; overwriting the blob gives a new one.
    /// </summary>
    public static string ForUpload(string container, string blobName, string versionOrETag)
    {
        ArgumentException.ThrowIfNullOrEmpty(container);
        ArgumentException.ThrowIfNullOrEmpty(blobName);
        ArgumentException.ThrowIfNullOrEmpty(versionOrETag);
        // Length-prefixed parts: no two different (container, name, version) triples hash the same input.
        var text = $"{container.Length}:{container}|{blobName.Length}:{blobName}|{versionOrETag.Trim('"')}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return Convert.ToHexStringLower(hash.AsSpan(0, Length / 2));
    }

    public static bool IsValid(string? id) =>
        id is { Length: Length } && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
