namespace Cpm.Api.Http;

internal static class ErrorResponses
{
    /// <summary>Routing's own 404 and 405 answers get the contract's error body too.</summary>
    public static IApplicationBuilder UseContractStatusCodePages(this IApplicationBuilder app) =>
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var (code, message) = http.Response.StatusCode switch
            {
                StatusCodes.Status405MethodNotAllowed => (ErrorCodes.MethodNotAllowed, $"Method {http.Request.Method} is not allowed on {http.Request.Path}"),
                StatusCodes.Status404NotFound => (ErrorCodes.ResourceNotFound, $"No resource at {http.Request.Path}"),
                _ => (null, null),
            };
            if (code is not null)
            {
                await ApiResults.WriteErrorAsync(http, code, message!);
            }
        });
}
