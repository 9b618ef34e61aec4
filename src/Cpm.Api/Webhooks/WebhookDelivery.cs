using System.Security.Cryptography;
using System.Text;
using Cpm.Api.Http;
using Cpm.Api.Storage;
using Cpm.Api.Wire;
using Microsoft.Extensions.Options;
using ZLogger;

namespace Cpm.Api.Webhooks;

/// <summary>
/// Delivers every event to each subscription, one POST per event, in feed order (so in order per
/// entity), from the event log the writes themselves append to. A failed attempt is retried with
/// exponential backoff and blocks the events after it; the last acknowledged sequence is stored,
/// so a restart resumes where delivery stopped. A new subscription starts at the current end.
/// </summary>
internal sealed partial class WebhookDelivery(
    ICpmStore store,
    IHttpClientFactory clients,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookDelivery> logger) : BackgroundService
{
    public const string ClientName = "webhooks";
    public const string SignatureHeader = "X-Cpm-Signature";
    private const int Batch = 100;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(options.Value.Subscriptions.Select(subscription => DeliverAsync(subscription, stoppingToken)));

    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)).ToLowerInvariant();

    private async Task DeliverAsync(WebhookSubscription subscription, CancellationToken stoppingToken)
    {
        var subscriber = $"webhook:{subscription.Url}";
        long? cursor = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                cursor ??= await store.GetDeliveryCursorAsync(subscriber, stoppingToken) ?? await StartAtEndAsync(subscriber, stoppingToken);
                var events = await store.ReadEventsAsync(cursor.Value, Batch, stoppingToken);
                if (events.Count == 0)
                {
                    await Task.Delay(options.Value.PollInterval, time, stoppingToken);
                    continue;
                }

                foreach (var sequenced in events)
                {
                    await SendUntilAcknowledgedAsync(subscription, sequenced, stoppingToken);

                    // Acknowledged: record it even if the service is stopping, so it is not sent again.
                    await store.SaveDeliveryCursorAsync(subscriber, sequenced.Sequence, CancellationToken.None);
                    cursor = sequenced.Sequence;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping: what was acknowledged is recorded; the rest is sent after the restart.
            }
            catch (Exception failure) when (failure is not OperationCanceledException)
            {
                // A storage hiccup must not stop the host: wait, then carry on from the recorded cursor.
                LogStorageFailure(subscription.LoggedUrl, failure.Message);
                cursor = null;
                await Task.Delay(options.Value.MaxRetryDelay, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task<long> StartAtEndAsync(string subscriber, CancellationToken stoppingToken)
    {
        long end = 0;
        IReadOnlyList<SequencedEvent> page;
        do
        {
            page = await store.ReadEventsAsync(end, 1000, stoppingToken);
            end = page.Count > 0 ? page[^1].Sequence : end;
        }
        while (page.Count > 0);

        await store.SaveDeliveryCursorAsync(subscriber, end, stoppingToken);
        return end;
    }

    private async Task SendUntilAcknowledgedAsync(WebhookSubscription subscription, SequencedEvent sequenced, CancellationToken stoppingToken)
    {
        var body = sequenced.Event.WriteTo(new PythonJsonWriter()).ToUtf8Bytes();
        var signature = Sign(subscription.Secret, body);
        var delay = options.Value.FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ApiResults.JsonContentType);
                using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url) { Content = content };
                request.Headers.Add(SignatureHeader, signature);
                using var response = await clients.CreateClient(ClientName).SendAsync(request, stoppingToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                LogRetry(sequenced.Sequence, subscription.LoggedUrl, attempt, $"HTTP {(int)response.StatusCode}");
            }
            catch (Exception failure) when (failure is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                LogRetry(sequenced.Sequence, subscription.LoggedUrl, attempt, failure.Message);
            }

            await Task.Delay(delay, time, stoppingToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.Value.MaxRetryDelay.Ticks));
        }
    }

    [ZLoggerMessage(LogLevel.Error, "Webhook delivery to {Url} paused after a storage failure: {Reason}")]
    private partial void LogStorageFailure(string url, string reason);

    [ZLoggerMessage(LogLevel.Warning, "Webhook delivery of event {Sequence} to {Url} failed (attempt {Attempt}): {Reason}; retrying")]
    private partial void LogRetry(long sequence, string url, int attempt, string reason);
}

internal static class WebhookServiceCollectionExtensions
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>()
            .Bind(configuration.GetSection(WebhookOptions.Section))
            .Validate(options => options.Subscriptions.All(s => s.HasHttpUrl && !string.IsNullOrEmpty(s.Secret)),
                "Each Webhooks:Subscriptions entry needs an absolute http or https Url and a Secret.")
            .ValidateOnStart();

        // A redirect is a failed attempt, retried: following it would re-send the signed body to
        // wherever the receiver points, or count a 302 as delivered when the event never arrived.
        services.AddHttpClient(WebhookDelivery.ClientName, client => client.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddHostedService<WebhookDelivery>();
        return services;
    }
}
