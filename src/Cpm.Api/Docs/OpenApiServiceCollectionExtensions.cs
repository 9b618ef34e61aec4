using System.Text.Json.Nodes;
using Cpm.Api.Auth;
using Cpm.Api.Http;
using Cpm.Api.Pages;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Cpm.Api.Docs;

/// <summary>
/// The OpenAPI 3.1 document at <c>/openapi/v1.json</c>, generated from the mapped endpoints, and
/// the interactive docs page at <c>/docs</c> (Scalar, its assets served from the service itself).
/// </summary>
internal static class OpenApiServiceCollectionExtensions
{
    public const string DocumentPath = "/openapi/v1.json";
    private const string ApiKeyScheme = "apikey";

    /// <summary>
    /// Links off the page, which no option removes: Scalar's "Powered by" and hosted-client links, and
    /// the MDN link that is the test client's status line (so the client shows a response's timing,
    /// headers and body, not its status). The page's own links are fragments.
    /// </summary>
    private const string HideOutsideLinks = "a[href^='http:'], a[href^='https:'], a[href^='//'] { display: none !important; }";

    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Health"] = "Probes for load balancers (no api key) and the contract's storage check.",
        ["Product teams"] = "Teams, each tied to an organisation's ODS code, found by their id or their alias key.",
        ["Products"] = "The products (connecting parties) a team registers, each with a product id such as P.7GX-ANH.",
        ["Events"] = "The change feed: every create, rename, delete and restore, in order.",
        ["Export"] = "The whole register as NDJSON, to move it between stores.",
        ["Webhooks"] = "Subscriptions that receive every event, signed, delivered by whichever node holds their lease.",
    };

    public static IServiceCollection AddCpmOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            options.ShouldInclude = description => description.HttpMethod != HttpMethods.Options;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Connecting Party Manager",
                    Version = "1",
                    Description = "Register product teams and the products (connecting parties) they connect to national APIs. "
                        + "Bodies are JSON as Python's json.dumps writes it; errors are {\"errors\": [{\"code\", \"message\"}]}.",
                    License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" },
                };

                // Relative, so the document is the same wherever it is served or generated (docs/openapi.json).
                document.Servers = [new OpenApiServer { Url = "/", Description = "The service this document was read from." }];
                foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
                {
                    tag.Description = TagDescriptions.TryGetValue(tag.Name!, out var description)
                        ? description
                        : throw new InvalidOperationException($"Tag '{tag.Name}' has no description: add one to {nameof(TagDescriptions)}.");
                }

                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = "apikey",
                    Description = "A configured api key; the header name is case-insensitive.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(DescribeOperationAsync);
        });

    public static void MapCpmDocs(this IEndpointRouteBuilder routes)
    {
        routes.MapOpenApi(DocumentPath);
        // Only this service: no AI chat, MCP, telemetry, CDN fonts, developer toolbar (its Share and
        // Deploy buttons lead to Scalar's own services) or links to Scalar's hosted client and site,
        // and a policy that lets nothing else load. Requests go to the origin the page came from.
        routes.MapScalarApiReference("/docs", options => options
                .WithTitle("Connecting Party Manager API")
                .WithOpenApiRoutePattern(DocumentPath)
                .AddPreferredSecuritySchemes(ApiKeyScheme)
                .DisableAgent()
                .DisableMcp()
                .DisableTelemetry()
                .DisableDefaultFonts()
                .HideDeveloperTools()
                .HideClientButton()
                .WithDynamicBaseServerUrl()
                .WithCustomCss(HideOutsideLinks)
                .WithNonce())
            .Add(endpoint => endpoint.RequestDelegate = WithPageHeaders(endpoint.RequestDelegate!));
    }

    /// <summary>The UI's headers, naming the nonce Scalar puts on its inline start-up script for this request.</summary>
    private static RequestDelegate WithPageHeaders(RequestDelegate next) => context =>
    {
        context.Response.OnStarting(() =>
        {
            PageSecurityHeaders.Apply(context.Response, context.Items[ScalarOptions.NonceHttpContextItemKey] as string, inlineStyles: true);
            return Task.CompletedTask;
        });
        return next(context);
    };

    /// <summary>Headers, the api key requirement and the error answers of one operation.</summary>
    private static async Task DescribeOperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var versioned = metadata.OfType<VersionHeaderMetadata>().Any();
        var needsKey = metadata.OfType<ApiKeyMetadata>().Any();
        operation.OperationId = OperationIds.For(context.Description.HttpMethod!, context.Description.RelativePath!);
        operation.Parameters ??= [];
        if (versioned)
        {
            AddHeader(operation, "version", required: true,
                "API version: an integer; 1 and above resolve to the highest available (1). The response header Version reports it.");
        }

        const string echoed = "Printable ASCII, at most 200 characters (else 400): echoed on the response and written on every log line.";
        AddHeader(operation, RequestIds.RequestIdHeader, required: false, echoed);
        AddHeader(operation, RequestIds.CorrelationIdHeader, required: false, echoed);
        if (needsKey)
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] }];
        }
        else
        {
            // Stated, not left out: an open operation and one whose security was forgotten look alike.
            operation.Security = [];
        }

        var errors = metadata.OfType<ApiErrorsMetadata>().SelectMany(declared => declared.Examples)
            .Concat(needsKey ? [CommonErrors.MissingKey, CommonErrors.StorageDown] : [])
            .Concat(versioned ? [CommonErrors.MissingVersion, CommonErrors.UnsupportedVersion] : []);
        var schema = await context.GetOrCreateSchemaAsync(typeof(ErrorsBody), null, cancellationToken);
        operation.Responses ??= [];
        foreach (var byStatus in errors.GroupBy(error => ErrorCodes.Status(error.Code)).OrderBy(group => group.Key))
        {
            var media = new OpenApiMediaType { Schema = schema, Examples = new Dictionary<string, IOpenApiExample>() };
            foreach (var error in byStatus.DistinctBy(error => error.Message))
            {
                media.Examples[$"{error.Code} {media.Examples.Count + 1}"] = new OpenApiExample
                {
                    Summary = error.Code,
                    Value = JsonNode.Parse(ApiResults.ErrorBody([error]).ToString()),
                };
            }

            operation.Responses[byStatus.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = byStatus.Key switch
                {
                    400 => "Bad request: the version header or the request failed validation.",
                    403 => "Access denied: missing or wrong api key, or version below 1.",
                    404 => "Not found.",
                    409 => "Conflict.",
                    413 => "Body over 1 MiB.",
                    422 => "Unprocessable: the ODS code could not be resolved.",
                    503 => "Unavailable: a dependency (ODS or storage) could not answer; retry later.",
                    _ => "Error.",
                },
                Content = new Dictionary<string, OpenApiMediaType> { [ApiResults.JsonContentType] = media },
            };
        }
    }

    private static void AddHeader(OpenApiOperation operation, string name, bool required, string description) =>
        operation.Parameters!.Add(new OpenApiParameter
        {
            Name = name,
            In = ParameterLocation.Header,
            Required = required,
            Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });
}
