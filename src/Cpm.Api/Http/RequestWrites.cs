using Cpm.Api.Auth;
using Cpm.Api.Storage;
using Cpm.Api.Wire;

namespace Cpm.Api.Http;

internal static class RequestWrites
{
    /// <summary>The write this request makes: now, its request and correlation ids, and the caller as actor.</summary>
    public static WriteContext WriteContext(this HttpContext context, TimeProvider time) => new(
        PythonTime.Truncate(time.GetUtcNow()),
        RequestIds.Read(context.Request, RequestIds.RequestIdHeader),
        RequestIds.Read(context.Request, RequestIds.CorrelationIdHeader),
        Caller.Current(context).Name);
}
