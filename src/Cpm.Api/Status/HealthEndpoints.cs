using Cpm.Api.Docs;
using Cpm.Api.Http;
using Cpm.Api.Storage;
using Cpm.Api.Wire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ZLogger;

namespace Cpm.Api.Status;

/// <summary>
/// Probes for load balancers and orchestrators, without an api key: <c>/_ping</c> for liveness
/// (no dependency is called) and <c>/_ready</c> for readiness (storage must answer).
/// </summary>
internal static partial class HealthEndpoints
{
    internal const string ReadyTag = "ready";
    private const string NotReady = "Not ready";

    public static IServiceCollection AddCpmHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: [ReadyTag]);
        return services;
    }

    public static void MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_ping", () => ApiResults.Json(StatusCodes.Status200OK, Outcome("OK", "Alive")))
            .RequireValidRequestIds()
            .WithTags("Health")
            .WithSummary("Liveness: the process answers; no dependency is called")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType);

        routes.MapGet("/_ready", ReadyAsync)
            .RequireValidRequestIds()
            .WithTags("Health")
            .WithSummary("Readiness: storage answers a real round trip; 503 otherwise")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.ServiceUnavailable, NotReady));
    }

    // The probe needs no key, so it says only whether the service is ready; why not goes to the log.
    private static async Task<IResult> ReadyAsync(HealthCheckService health, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), cancellationToken);
        if (report.Status == HealthStatus.Healthy)
        {
            return ApiResults.Json(StatusCodes.Status200OK, Outcome("OK", "Ready"));
        }

        logs.CreateLogger(typeof(HealthEndpoints)).LogNotReady(string.Join("; ", report.Entries.Where(entry => entry.Value.Status != HealthStatus.Healthy).Select(entry => $"{entry.Key}: {entry.Value.Description}")));
        return ApiResults.Error(ErrorCodes.ServiceUnavailable, NotReady);
    }

    [ZLoggerMessage(LogLevel.Warning, "Not ready: {Reason}")]
    private static partial void LogNotReady(this ILogger logger, string reason);

    private static PythonJsonWriter Outcome(string code, string message) =>
        new PythonJsonWriter().StartObject().Property("code", code).Property("message", message).EndObject();

    private sealed class StorageHealthCheck(ICpmStore store) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await store.PingAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception failure) when (failure is not OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy(failure.Message);
            }
        }
    }
}
