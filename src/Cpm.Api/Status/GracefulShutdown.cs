using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ZLogger;

namespace Cpm.Api.Status;

/// <summary>The <c>Shutdown</c> section.</summary>
internal sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>
    /// How long a stopping node keeps serving, with <c>/_ready</c> answering 503, before its server
    /// stops taking requests: long enough for the load balancer's health checks to take it out.
    /// </summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.Zero;
}

/// <summary>
/// On SIGTERM (or any stop) the node first reports not ready and goes on serving for the drain
/// delay, so the balancer sends new requests elsewhere; then the host stops Kestrel, which finishes
/// the requests in flight. It runs in the stopping phase, before any hosted service (the server
/// included) is stopped.
/// </summary>
internal sealed partial class GracefulShutdown(IOptions<ShutdownOptions> options, TimeProvider time, ILogger<GracefulShutdown> logger)
    : IHostedLifecycleService, IHealthCheck
{
    private volatile bool _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var delay = options.Value.DrainDelay;
        LogDraining(delay.TotalSeconds);
        await Task.Delay(delay, time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_draining ? HealthCheckResult.Unhealthy("shutting down") : HealthCheckResult.Healthy());

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [ZLoggerMessage(LogLevel.Information, "Stopping: /_ready answers 503; serving for {DrainSeconds} s more before the server stops")]
    private partial void LogDraining(double drainSeconds);
}

internal static class GracefulShutdownServiceCollectionExtensions
{
    private static readonly TimeSpan MaxDrainDelay = TimeSpan.FromMinutes(2);

    public static IServiceCollection AddGracefulShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ShutdownOptions>()
            .Bind(configuration.GetSection(ShutdownOptions.Section))
            .Validate(options => options.DrainDelay >= TimeSpan.Zero && options.DrainDelay <= MaxDrainDelay,
                "Shutdown:DrainDelay must be between 00:00:00 and 00:02:00.")
            .ValidateOnStart();

        // The drain comes on top of the time in-flight requests and background work get to finish.
        services.AddOptions<HostOptions>()
            .Configure<IOptions<ShutdownOptions>>((host, shutdown) => host.ShutdownTimeout += shutdown.Value.DrainDelay);

        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(provider => provider.GetRequiredService<GracefulShutdown>());
        services.AddHealthChecks().AddCheck<GracefulShutdown>("shutdown", tags: [HealthEndpoints.ReadyTag]);
        return services;
    }
}
