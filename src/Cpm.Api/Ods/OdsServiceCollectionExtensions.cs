namespace Cpm.Api.Ods;

internal static class OdsServiceCollectionExtensions
{
    /// <summary>
    /// ODS gets bounded time: 3 s an attempt, 3 retries with jittered backoff on 5xx and connection
    /// failures, 10 s in all, so a caller hears 503 well within 15 s when ODS is down or hanging.
    /// </summary>
    public static IServiceCollection AddOdsClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OdsOptions>()
            .Bind(configuration.GetSection(OdsOptions.Section))
            .Validate(options => Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https",
                "Ods:BaseUrl must be an absolute http(s) URL.")
            .ValidateOnStart();

        services.AddSingleton<KnownGoodOdsCodes>();
        services.AddHttpClient<OdsClient>()
            .AddStandardResilienceHandler(resilience =>
            {
                resilience.AttemptTimeout.Timeout = TimeSpan.FromSeconds(3);
                resilience.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(10);
                resilience.Retry.MaxRetryAttempts = 3;
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(200);
                resilience.Retry.BackoffType = Polly.DelayBackoffType.Exponential;
                resilience.Retry.UseJitter = true;
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);
                resilience.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(5);
            });
        return services;
    }
}
