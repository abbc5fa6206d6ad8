using System.Net;
using System.Net.Sockets;

namespace CodeFormer.Shared.Webhooks;

/// <summary>
/// Which webhook URLs the service will call: https, and a host that resolves only to public addresses. Loopback,
/// private (RFC 1918, CGNAT, IPv6 ULA), link-local (which holds the cloud metadata endpoint 169.254.169.254),
/// Azure's platform address 168.63.129.16, multicast and unspecified addresses are refused, so a tenant cannot aim
/// the service at its own network (SSRF). The worker must check again right before calling (DNS can change).
/// </summary>
public sealed class WebhookUrlPolicy(bool allowPrivateAddresses = false, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
{
    private static readonly IPNetwork[] Forbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("168.63.129.16/32"),
        IPNetwork.Parse("224.0.0.0/3"),
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"),
        IPNetwork.Parse("64:ff9b::/96"),
    ];

    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve = resolve ?? Dns.GetHostAddressesAsync;

    /// <summary>Null when the URL may be called; otherwise why not, in words.</summary>
    public async Task<string?> CheckAsync(string url, CancellationToken cancellationToken = default)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return $"'{url}' is not an absolute URL.";
        }
        if (uri.Scheme != Uri.UriSchemeHttps && !(allowPrivateAddresses && uri.Scheme == Uri.UriSchemeHttp))
        {
            return $"Webhook URLs must use https, not {uri.Scheme}.";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "Webhook URLs must not carry credentials in the URL.";
        }
        if (allowPrivateAddresses)
        {
            return null;
        }
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await _resolve(uri.IdnHost, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return $"The webhook host '{uri.Host}' does not resolve.";
        }
        if (addresses.Length == 0)
        {
            return $"The webhook host '{uri.Host}' does not resolve.";
        }
        foreach (var address in addresses)
        {
            if (!IsPublic(address))
            {
                return $"The webhook host '{uri.Host}' resolves to {address}, which is not a public address (loopback, private, link-local and metadata ranges are refused).";
            }
        }
        return null;
    }

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return !Forbidden.Any(network => network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address));
    }
}
