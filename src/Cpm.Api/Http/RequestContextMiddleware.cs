using System.Diagnostics;
using Cpm.Api.Auth;
using Cpm.Api.Storage;
using Cpm.Api.Telemetry;
using ZLogger;

namespace Cpm.Api.Http;

/// <summary>
/// The outermost layer of every request: echoes the NHS request and correlation ids, sets the
/// headers every response carries, writes one log line per request, and turns anything thrown
/// into the contract's error body (storage outages are 503, never a 404 or a bare 500).
/// </summary>
internal sealed partial class RequestContextMiddleware(RequestDelegate next, ILogger<RequestContextMiddleware> logger, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = time.GetTimestamp();
        var request = context.Request;
        var response = context.Response;
        var requestId = RequestIds.Read(request, RequestIds.RequestIdHeader);
        var correlationId = RequestIds.Read(request, RequestIds.CorrelationIdHeader);
        SetStandardHeaders(response, requestId, correlationId);
        var (loggedRequestId, loggedCorrelationId) = (LogText.Clip(requestId), LogText.Clip(correlationId));
        Activity.Current?.SetTag("cpm.request_id", loggedRequestId).SetTag("cpm.correlation_id", loggedCorrelationId);

        using (RequestScope(logger, loggedRequestId, loggedCorrelationId))
        {
            try
            {
                await next(context);
            }
            catch (Exception failure) when (!response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                var (code, message) = Translate(failure);
                if (code == ErrorCodes.ServiceError)
                {
                    LogUnhandled(failure, request.Method, request.Path.Value);
                }
                else
                {
                    LogStorageUnavailable(failure.Message);
                }

                var version = response.Headers[VersionHeaderFilter.ResponseHeader];
                response.Clear();
                SetStandardHeaders(response, requestId, correlationId);
                response.Headers[VersionHeaderFilter.ResponseHeader] = version;
                if (code == ErrorCodes.ServiceUnavailable)
                {
                    response.Headers.RetryAfter = "5";
                }

                await ApiResults.WriteErrorAsync(context, code, message);
            }
            finally
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
                LogRequest(request.Method, request.Path.Value, route, response.StatusCode, time.GetElapsedTime(started).TotalMilliseconds, Caller.Find(context)?.Name);
            }
        }
    }

    private static (string Code, string Message) Translate(Exception failure) => failure switch
    {
        StorageUnavailableException unavailable => (ErrorCodes.ServiceUnavailable, unavailable.Message),
        TooLargeToStoreException tooLarge => (ErrorCodes.PayloadTooLarge, tooLarge.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            (ErrorCodes.PayloadTooLarge, $"Request body is larger than the limit of {RequestBody.MaxBytes} bytes"),
        BadHttpRequestException bad => (ErrorCodes.ValidationError, bad.Message),
        _ => (ErrorCodes.ServiceError, "An unexpected error occurred; it has been logged."),
    };

    // An id that is not valid is not echoed: a header cannot carry it, and the request is refused anyway.
    private static void SetStandardHeaders(HttpResponse response, string? requestId, string? correlationId)
    {
        response.Headers[VersionHeaderFilter.ResponseHeader] = VersionHeaderFilter.Unresolved;
        response.Headers.AccessControlAllowOrigin = "*";
        if (requestId is not null && RequestIds.IsValid(requestId))
        {
            response.Headers[RequestIds.RequestIdHeader] = requestId;
        }

        if (correlationId is not null && RequestIds.IsValid(correlationId))
        {
            response.Headers[RequestIds.CorrelationIdHeader] = correlationId;
        }
    }

    // Every log line written while the request runs carries both ids.
    private static readonly Func<ILogger, string?, string?, IDisposable?> RequestScope =
        LoggerMessage.DefineScope<string?, string?>("X-Request-Id {XRequestId}, X-Correlation-Id {XCorrelationId}");

    [ZLoggerMessage(LogLevel.Information, "{Method} {Path} ({Route}) answered {Status} in {DurationMs:0.0} ms for {Caller}")]
    private partial void LogRequest(string method, string? path, string route, int status, double durationMs, string? caller);

    [ZLoggerMessage(LogLevel.Error, "Unhandled error for {Method} {Path}")]
    private partial void LogUnhandled(Exception failure, string method, string? path);

    [ZLoggerMessage(LogLevel.Warning, "Storage unavailable: {Reason}")]
    private partial void LogStorageUnavailable(string reason);
}
