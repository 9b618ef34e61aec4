using Cpm.Api.Http;
using Microsoft.OpenApi;

namespace Cpm.Api.Docs;

internal static class JsonBodyDocumentation
{
    /// <summary>
    /// Documents a JSON request body without <c>Accepts</c>: that metadata also makes routing refuse
    /// other content types with a bare 415, and the contract reads the body as JSON whatever the
    /// Content-Type says (<c>curl -d</c> sends form encoding).
    /// </summary>
    public static RouteHandlerBuilder DocumentsJsonBody<TBody>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(TBody), null, cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "JSON, read as JSON whatever the Content-Type header says.",
                Content = new Dictionary<string, OpenApiMediaType> { [ApiResults.JsonContentType] = new() { Schema = schema } },
            };
        });
}
