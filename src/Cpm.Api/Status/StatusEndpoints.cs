using Cpm.Api.Docs;
using Cpm.Api.Http;
using Cpm.Api.Storage;
using Cpm.Api.Wire;

namespace Cpm.Api.Status;

internal static class StatusEndpoints
{
    /// <summary><c>/_status</c>: a real storage round trip; it does not read the version header.</summary>
    public static RouteHandlerBuilder MapStatus(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/_status", GetStatusAsync)
            .WithTags("Health")
            .WithSummary("A real storage round trip; 503 with the storage error otherwise")
            .Produces<OutcomeBody>(StatusCodes.Status200OK, ApiResults.JsonContentType)
            .WithErrors(CommonErrors.StorageDown);

    private static async Task<IResult> GetStatusAsync(ICpmStore store, CancellationToken cancellationToken)
    {
        try
        {
            await store.PingAsync(cancellationToken);
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            return ApiResults.Error(ErrorCodes.ServiceUnavailable, failure.Message);
        }

        return ApiResults.Json(StatusCodes.Status200OK, new PythonJsonWriter()
            .StartObject().Property("code", "OK").Property("message", "Transaction successful").EndObject());
    }
}
