using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cpm.Api.Telemetry;

/// <summary>
/// OpenTelemetry traces and metrics: ASP.NET Core (requests by route and status), HttpClient
/// (ODS calls), the runtime, and the service's own meter. Exported over OTLP only when an
/// endpoint is configured (the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>); silent otherwise.
/// </summary>
internal static class TelemetryServiceCollectionExtensions
{
    public static IServiceCollection AddCpmTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<CpmMetrics>();

        // With nowhere to send them, recording spans and metrics would only cost every request.
        if (string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(CpmMetrics.ServiceName))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => context.Request.Path != "/_ping")
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(CpmMetrics.MeterName))
            .UseOtlpExporter();
        return services;
    }
}
