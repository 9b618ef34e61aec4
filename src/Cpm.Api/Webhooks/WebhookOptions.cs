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

    /// <summary>Absolute <c>http</c> or <c>https</c>: the only URLs delivery may POST to.</summary>
    public bool HasHttpUrl => Uri.TryCreate(Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    /// <summary>The URL as logs show it: without any <c>user:password@</c>.</summary>
    public string LoggedUrl => Uri.TryCreate(Url, UriKind.Absolute, out var uri)
        ? uri.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped)
        : "(invalid URL)";
}
