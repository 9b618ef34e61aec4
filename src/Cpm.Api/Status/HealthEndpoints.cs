using Cpm.Api.Docs;
using Cpm.Api.Http;
using Cpm.Api.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cpm.Api.Status;

/// <summary>
/// Probes for load balancers and orchestrators, without an api key: <c>/_ping</c> for liveness
/// (no dependency is called) and <c>/_ready</c> for readiness (storage must answer).
/// </summary>
internal static class HealthEndpoints
{
    private const string ReadyTag = "ready";

    public static IServiceCollection AddCpmHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: [ReadyTag]);
        return services;
    }

    public static void MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_ping", () => ApiResults.Json(StatusCodes.Status200OK, Outcome("OK", "Alive")))
            .WithTags("Health")
            .WithSummary("Liveness: the process answers; no dependency is called")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType);

        routes.MapGet("/_ready", ReadyAsync)
            .WithTags("Health")
            .WithSummary("Readiness: storage answers a real round trip; 503 otherwise")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(new ApiError(ErrorCodes.ServiceUnavailable, "Not ready: storage: SQLite read failed: database is locked"));
    }

    private static async Task<IResult> ReadyAsync(HealthCheckService health, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), cancellationToken);
        return report.Status == HealthStatus.Healthy
            ? ApiResults.Json(StatusCodes.Status200OK, Outcome("OK", "Ready"))
            : ApiResults.Error(ErrorCodes.ServiceUnavailable,
                $"Not ready: {string.Join("; ", report.Entries.Select(entry => $"{entry.Key}: {entry.Value.Description}"))}");
    }

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
