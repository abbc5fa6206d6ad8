namespace CodeFormer.Shared.Webhooks;

/// <summary>
/// How hard one webhook notice is tried: calls in all (first try included), the first backoff (doubled after each
/// try) and the time limit of one call. The GPU worker takes them from its Worker settings; the Functions app, which
/// sends the cancelled and expired notices, uses <see cref="Default"/>, the worker's defaults, so every terminal state
/// is tried the same way.
/// </summary>
public sealed record WebhookRetryRules(int Attempts, TimeSpan RetryDelay, TimeSpan Timeout)
{
    public static WebhookRetryRules Default { get; } = new(4, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
}
