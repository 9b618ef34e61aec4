using System.Security.Cryptography;
using System.Text;
using Cpm.Api.Auth;
using Cpm.Api.Http;
using Cpm.Api.Storage;
using Cpm.Api.Wire;
using Microsoft.Extensions.Options;
using ZLogger;

namespace Cpm.Api.Webhooks;

/// <summary>
/// Delivers every event to each subscription (configured or made through the API), one POST per
/// event, from the event log the writes themselves append to. Any node may deliver: every
/// <see cref="WebhookOptions.LeasePollInterval"/> a node reads the subscriptions and takes the
/// lease of each one nobody holds (or whose holder let it expire), and delivers only under it.
/// A holder reads a batch after its cursor, sends each entity's events in order and different
/// entities' concurrently, retrying failures with exponential backoff, and saves its progress
/// once per batch and with each lease renewal, never per event. A new subscription starts at the
/// feed's end; a restart resumes from what was saved, without sending an acknowledged event again.
/// </summary>
internal sealed partial class WebhookDelivery(
    ICpmStore store,
    IHttpClientFactory clients,
    IOptions<WebhookOptions> options,
    WebhookSecrets secrets,
    TimeProvider time,
    ILogger<WebhookDelivery> logger) : BackgroundService
{
    public const string ClientName = "webhooks";
    public const string SignatureHeader = "X-Cpm-Signature";

    private readonly Dictionary<string, Running> _running = [];

    /// <summary>This node's name in the leases it holds: host, process id, and a part new at every start.</summary>
    public string Node { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)).ToLowerInvariant();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Deliver)
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await PollAsync(stoppingToken);
                await Task.Delay(options.Value.LeasePollInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: each delivery saves what it acknowledged and releases its lease.
        }
        finally
        {
            foreach (var running in _running.Values)
            {
                running.Stop();
            }

            await Task.WhenAll(_running.Values.Select(running => running.Task));
            foreach (var running in _running.Values)
            {
                running.Dispose();
            }
        }
    }

    /// <summary>Stops deliveries whose subscription is gone (or that ended) and takes the leases nobody holds.</summary>
    private async Task PollAsync(CancellationToken stoppingToken)
    {
        try
        {
            var targets = await TargetsAsync(stoppingToken);
            foreach (var (subscriber, running) in _running.ToList())
            {
                if (running.Task.IsCompleted || !targets.ContainsKey(subscriber))
                {
                    running.Stop();
                    await running.Task;
                    running.Dispose();
                    _running.Remove(subscriber);
                }
            }

            foreach (var target in targets.Values.Where(target => !_running.ContainsKey(target.Subscriber)))
            {
                // A read first: most polls find the lease held, and a read costs less than a refused write.
                var now = time.GetUtcNow();
                if ((await store.GetDeliveryStateAsync(target.Subscriber, stoppingToken)).LeaseUntil > now)
                {
                    continue;
                }

                var until = now + options.Value.LeaseDuration;
                if (await store.TryTakeLeaseAsync(target.Subscriber, Node, now, until, target.FromApi, stoppingToken) is { } lease)
                {
                    LogLeaseTaken(target.LoggedUrl, Node);
                    _running[target.Subscriber] = Running.Start(token => DeliverAsync(target, lease, until, token), stoppingToken);
                }
            }
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            LogPollFailure(failure.Message);
        }
    }

    private async Task<Dictionary<string, Target>> TargetsAsync(CancellationToken stoppingToken)
    {
        var targets = new Dictionary<string, Target>();
        foreach (var configured in options.Value.Subscriptions)
        {
            var secret = configured.Secret;
            targets[$"webhook:{configured.Url}"] = new Target($"webhook:{configured.Url}", configured.Url, configured.LoggedUrl, () => secret, FromApi: false);
        }

        foreach (var webhook in await store.ListWebhooksAsync(stoppingToken))
        {
            var loggedUrl = new WebhookSubscription { Url = webhook.Url }.LoggedUrl;
            targets[webhook.Subscriber] = new Target(webhook.Subscriber, webhook.Url, loggedUrl, () => secrets.Unprotect(webhook.ProtectedSecret), FromApi: true);
        }

        return targets;
    }

    private async Task DeliverAsync(Target target, DeliveryLease lease, DateTimeOffset until, CancellationToken stopping)
    {
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        using var holder = new Holder(store, lease, until, options.Value.LeaseDuration, time);
        Task? renewal = null;
        Progress? progress = null;
        try
        {
            var secret = target.Secret();
            progress = new Progress(lease.DeliveredThrough ?? await store.ReadFeedEndAsync(stopping), lease.AcknowledgedAhead);
            if (lease.DeliveredThrough is null && !await holder.SaveAsync(progress, stopping))
            {
                return;
            }

            renewal = RenewAsync(holder, progress, target, lost);
            while (!lost.IsCancellationRequested)
            {
                try
                {
                    var events = await store.ReadEventsAsync(progress.Through, options.Value.BatchSize, lost.Token);
                    if (events.Count == 0)
                    {
                        await Task.Delay(options.Value.PollInterval, time, lost.Token);
                        continue;
                    }

                    var groups = progress.Begin(events).GroupBy(sequenced => (sequenced.Event.EntityType, sequenced.Event.EntityId));
                    await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = options.Value.MaxConcurrency, CancellationToken = lost.Token },
                        async (entityEvents, token) =>
                        {
                            foreach (var sequenced in entityEvents)
                            {
                                await SendUntilAcknowledgedAsync(target, secret, sequenced, progress, token);
                                progress.Acknowledge(sequenced.Sequence);
                            }
                        });

                    if (!await holder.SaveAsync(progress, lost.Token))
                    {
                        LogLeaseLost(target.LoggedUrl, Node);
                        return;
                    }
                }
                catch (Exception failure) when (failure is not OperationCanceledException)
                {
                    // A storage hiccup must not stop delivery: wait, then carry on from what is held in memory.
                    LogStorageFailure(target.LoggedUrl, failure.Message);
                    await Task.Delay(options.Value.MaxRetryDelay, time, lost.Token);
                }
            }
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            // Stopping, deleted, or the lease was lost: what follows decides what is saved.
        }
        catch (CryptographicException failure)
        {
            LogSecretUnreadable(target.LoggedUrl, failure.Message);
        }
        finally
        {
            await lost.CancelAsync();
            if (renewal is not null)
            {
                await renewal;
            }

            await holder.FinishAsync(progress);
        }
    }

    /// <summary>
    /// Renews the lease with the progress so far, so a long batch (a receiver that keeps failing)
    /// neither loses the lease nor its last attempt. When the lease is lost, or cannot be renewed
    /// before it runs out, delivery stops: another node may hold it by then.
    /// </summary>
    private async Task RenewAsync(Holder holder, Progress progress, Target target, CancellationTokenSource lost)
    {
        while (!lost.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.LeaseRenewal, time, lost.Token);
                if (!await holder.SaveAsync(progress, lost.Token))
                {
                    LogLeaseLost(target.LoggedUrl, Node);
                    await lost.CancelAsync();
                }
            }
            catch (OperationCanceledException) when (lost.IsCancellationRequested)
            {
                return;
            }
            catch (Exception failure)
            {
                LogStorageFailure(target.LoggedUrl, failure.Message);
                if (holder.Expired)
                {
                    LogLeaseLost(target.LoggedUrl, Node);
                    await lost.CancelAsync();
                }
            }
        }
    }

    private async Task SendUntilAcknowledgedAsync(Target target, string secret, SequencedEvent sequenced, Progress progress, CancellationToken cancellationToken)
    {
        var body = sequenced.Event.WriteTo(new PythonJsonWriter()).ToUtf8Bytes();
        var signature = Sign(secret, body);
        var delay = options.Value.FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ApiResults.JsonContentType);
                using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = content };
                request.Headers.Add(SignatureHeader, signature);
                using var response = await clients.CreateClient(ClientName).SendAsync(request, cancellationToken);
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    progress.Record(new DeliveryAttempt(time.GetUtcNow(), status, null));
                    return;
                }

                progress.Record(new DeliveryAttempt(time.GetUtcNow(), status, $"HTTP {status}"));
                LogRetry(sequenced.Sequence, target.LoggedUrl, attempt, $"HTTP {status}");
            }
            catch (Exception failure) when (failure is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                progress.Record(new DeliveryAttempt(time.GetUtcNow(), null, failure.Message));
                LogRetry(sequenced.Sequence, target.LoggedUrl, attempt, failure.Message);
            }

            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.Value.MaxRetryDelay.Ticks));
        }
    }

    [ZLoggerMessage(LogLevel.Information, "Webhook delivery to {Url} is now held by node {Node}")]
    private partial void LogLeaseTaken(string url, string node);

    [ZLoggerMessage(LogLevel.Warning, "Webhook delivery to {Url} stopped on node {Node}: its lease is held elsewhere now or ran out")]
    private partial void LogLeaseLost(string url, string node);

    [ZLoggerMessage(LogLevel.Error, "Webhook subscriptions could not be read: {Reason}")]
    private partial void LogPollFailure(string reason);

    [ZLoggerMessage(LogLevel.Error, "Webhook delivery to {Url} paused after a storage failure: {Reason}")]
    private partial void LogStorageFailure(string url, string reason);

    [ZLoggerMessage(LogLevel.Error, "Webhook delivery to {Url} cannot start: its secret cannot be decrypted with the key ring ({Reason})")]
    private partial void LogSecretUnreadable(string url, string reason);

    [ZLoggerMessage(LogLevel.Warning, "Webhook delivery of event {Sequence} to {Url} failed (attempt {Attempt}): {Reason}; retrying")]
    private partial void LogRetry(long sequence, string url, int attempt, string reason);

    private sealed record Target(string Subscriber, string Url, string LoggedUrl, Func<string> Secret, bool FromApi);

    /// <summary>One subscription being delivered by this node.</summary>
    private sealed class Running(Task task, CancellationTokenSource stop) : IDisposable
    {
        public Task Task => task;

        public static Running Start(Func<CancellationToken, Task> deliver, CancellationToken stoppingToken)
        {
            var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            return new Running(Task.Run(() => deliver(stop.Token), CancellationToken.None), stop);
        }

        public void Stop() => stop.Cancel();

        public void Dispose() => stop.Dispose();
    }

    /// <summary>
    /// The lease this node holds: saves run one at a time, each extending the lease from the time
    /// it started; once a save is refused the lease is lost and nothing more is saved.
    /// </summary>
    private sealed class Holder(ICpmStore store, DeliveryLease lease, DateTimeOffset until, TimeSpan duration, TimeProvider time) : IDisposable
    {
        private readonly SemaphoreSlim _saving = new(1, 1);
        private DateTimeOffset _until = until;
        private bool _lost;

        public bool Expired => time.GetUtcNow() >= _until;

        public void Dispose() => _saving.Dispose();

        public async Task<bool> SaveAsync(Progress progress, CancellationToken cancellationToken)
        {
            await _saving.WaitAsync(cancellationToken);
            try
            {
                if (_lost)
                {
                    return false;
                }

                var started = time.GetUtcNow();
                if (!await store.SaveDeliveryProgressAsync(lease, progress.Snapshot(), started + duration, cancellationToken))
                {
                    _lost = true;
                    return false;
                }

                _until = started + duration;
                return true;
            }
            finally
            {
                _saving.Release();
            }
        }

        /// <summary>Saves what was acknowledged and lets the lease go at once, so another node need not wait for it to expire.</summary>
        public async Task FinishAsync(Progress? progress = null)
        {
            try
            {
                if (progress is not null)
                {
                    await SaveAsync(progress, CancellationToken.None);
                }

                if (!_lost)
                {
                    await store.ReleaseLeaseAsync(lease, CancellationToken.None);
                }
            }
            catch (Exception failure) when (failure is StorageUnavailableException)
            {
                // The lease runs out by itself; the next holder resends from the last saved progress.
            }
        }
    }

    /// <summary>
    /// What this node has acknowledged: the cursor (every event up to it), and events past it
    /// acknowledged while an earlier event of another entity was still being sent.
    /// </summary>
    private sealed class Progress(long through, IReadOnlyList<long> ahead)
    {
        private readonly Lock _lock = new();
        private readonly HashSet<long> _ahead = [.. ahead.Where(sequence => sequence > through)];
        private long _through = through;
        private List<long> _batch = [];
        private int _next;
        private DeliveryAttempt? _lastAttempt;

        public long Through
        {
            get
            {
                lock (_lock)
                {
                    return _through;
                }
            }
        }

        /// <summary>Starts a batch; returns its events still to send (those acknowledged before a restart are not).</summary>
        public List<SequencedEvent> Begin(IReadOnlyList<SequencedEvent> events)
        {
            lock (_lock)
            {
                _batch = [.. events.Select(sequenced => sequenced.Sequence)];
                _next = 0;
                var toSend = events.Where(sequenced => !_ahead.Contains(sequenced.Sequence)).ToList();
                Advance();
                return toSend;
            }
        }

        public void Acknowledge(long sequence)
        {
            lock (_lock)
            {
                _ahead.Add(sequence);
                Advance();
            }
        }

        public void Record(DeliveryAttempt attempt)
        {
            lock (_lock)
            {
                _lastAttempt = attempt;
            }
        }

        public DeliveryProgress Snapshot()
        {
            lock (_lock)
            {
                return new DeliveryProgress(_through, [.. _ahead.Order()], _lastAttempt);
            }
        }

        private void Advance()
        {
            while (_next < _batch.Count && _ahead.Remove(_batch[_next]))
            {
                _through = _batch[_next];
                _next++;
            }
        }
    }
}

internal static class WebhookServiceCollectionExtensions
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>()
            .Bind(configuration.GetSection(WebhookOptions.Section))
            .Validate(options => options.Subscriptions.All(s => s.HasHttpUrl && !string.IsNullOrEmpty(s.Secret)),
                "Each Webhooks:Subscriptions entry needs an absolute http or https Url and a Secret.")
            .Validate(options => options.LeaseRenewal > TimeSpan.Zero && options.LeaseRenewal < options.LeaseDuration,
                "Webhooks:LeaseRenewal must be positive and shorter than Webhooks:LeaseDuration.")
            .Validate(options => options.PollInterval > TimeSpan.Zero && options.LeasePollInterval > TimeSpan.Zero && options.BatchSize > 0 && options.MaxConcurrency > 0,
                "Webhooks:PollInterval, LeasePollInterval, BatchSize and MaxConcurrency must be positive.")
            .ValidateOnStart();

        // Secrets of subscriptions made through the API are kept encrypted with the stored key ring.
        services.AddStoredKeyRing();
        services.AddSingleton<WebhookSecrets>();

        // A redirect is a failed attempt, retried: following it would re-send the signed body to
        // wherever the receiver points, or count a 302 as delivered when the event never arrived.
        services.AddHttpClient(WebhookDelivery.ClientName, client => client.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddHostedService<WebhookDelivery>();
        return services;
    }
}
