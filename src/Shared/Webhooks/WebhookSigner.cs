using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CodeFormer.Shared.Webhooks;

/// <summary>
/// Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over "{id}.{timestamp}.{body}" with the
/// tenant's <c>whsec_</c> secret, sent as headers webhook-id, webhook-timestamp and webhook-signature ("v1,{base64}").
/// </summary>
public static class WebhookSigner
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    public static string Sign(string secret, string messageId, DateTimeOffset timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        var seconds = timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{messageId}.{seconds}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    /// <summary>The three headers for one delivery.</summary>
    public static IReadOnlyDictionary<string, string> Headers(string secret, string messageId, DateTimeOffset timestamp, string body) =>
        new Dictionary<string, string>
        {
            [IdHeader] = messageId,
            [TimestampHeader] = timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            [SignatureHeader] = Sign(secret, messageId, timestamp, body),
        };

    /// <summary>Checks a received signature header (space-separated list; any v1 entry may match), in constant time.</summary>
    public static bool Verify(string secret, string messageId, DateTimeOffset timestamp, string body, string signatureHeader)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(secret, messageId, timestamp, body));
        return signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(candidate => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate), expected));
    }
}
