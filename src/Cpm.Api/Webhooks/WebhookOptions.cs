namespace Cpm.Api.Webhooks;

/// <summary>The <c>Webhooks</c> section: <c>Webhooks:Subscriptions:N:Url</c> and <c>:Secret</c>, and how delivery runs.</summary>
internal sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    public List<WebhookSubscription> Subscriptions { get; init; } = [];

    /// <summary>How often an idle subscription looks for new events.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>False: this node never delivers (it still serves <c>/Webhooks</c>); others sharing the store do.</summary>
    public bool Deliver { get; set; } = true;

    /// <summary>How long a node's hold on a subscription lasts unless renewed: a dead holder's subscriptions wait this long, plus one lease poll.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often a holder renews its leases, saving progress and its last attempt with them.</summary>
    public TimeSpan LeaseRenewal { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a node reads the subscriptions, takes leases that are free or expired, and notices deleted ones.</summary>
    public TimeSpan LeasePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Events read at a time; progress is saved once per batch.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How many entities' events one subscription sends at once (each entity's in order).</summary>
    public int MaxConcurrency { get; set; } = 16;
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
