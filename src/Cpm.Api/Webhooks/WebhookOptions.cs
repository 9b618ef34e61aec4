namespace Cpm.Api.Webhooks;

/// <summary>The <c>Webhooks</c> section: <c>Webhooks:Subscriptions:N:Url</c> and <c>:Secret</c>.</summary>
internal sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    public List<WebhookSubscription> Subscriptions { get; init; } = [];

    /// <summary>How often an idle subscription looks for new events.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class WebhookSubscription
{
    public string Url { get; set; } = "";

    public string Secret { get; set; } = "";
}
