using System.Net;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace Cpm.Api.Tests.Docs;

/// <summary>The OpenAPI document is valid, lists exactly the mapped routes, and describes real answers.</summary>
public sealed class OpenApiTests(SqliteService service) : IClassFixture<SqliteService>
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task DocumentIsValidOpenApi31()
    {
        var json = (await _client.GetAsync("/openapi/v1.json")).Body;

        var result = OpenApiDocument.Parse(json, OpenApiConstants.Json, new OpenApiReaderSettings());

        Assert.Empty(result.Diagnostic!.Errors);
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, result.Diagnostic.SpecificationVersion);
        Assert.Equal("apikey", result.Document!.Components!.SecuritySchemes!["apikey"].Name);
    }

    [Fact]
    public async Task DocumentListsExactlyTheMappedRoutesAndMethods()
    {
        var document = await DocumentAsync();
        var documented = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(operation => $"{operation.Key.ToUpperInvariant()} {path.Key}"))
            .Order().ToList();

        var mapped = service.Services.GetServices<EndpointDataSource>()
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
                .Select(method => (Method: method, Path: "/" + endpoint.RoutePattern.RawText!.Trim('/'))))
            .Where(route => route.Method != "OPTIONS" && !IsDocumentationItself(route.Path))
            .Select(route => $"{route.Method} {route.Path}")
            .Distinct().Order().ToList();

        Assert.Equal(mapped, documented);
    }

    [Fact]
    public async Task EveryVersionedOperationDocumentsItsHeadersAndTheApiKey()
    {
        var document = await DocumentAsync();
        foreach (var (path, operations) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                var headers = operation!["parameters"]!.AsArray().Where(p => (string)p!["in"]! == "header").Select(p => (string)p!["name"]!).ToList();
                Assert.Contains("X-Request-Id", headers);
                Assert.Contains("X-Correlation-Id", headers);
                var public_ = path is "/_ping" or "/_ready";
                Assert.Equal(public_ ? 0 : 1, operation["security"]!.AsArray().Count);
                Assert.Equal(!public_ && path != "/_status", headers.Contains("version"));
                Assert.True(operation["responses"]!.AsObject().Count > 0, $"{method} {path} declares no responses");
            }
        }
    }

    [Fact]
    public async Task RealAnswersHaveADeclaredStatusAndMatchTheDeclaredSchema()
    {
        var document = await DocumentAsync();
        var team = await _client.CreateTeamAsync();
        var id = (string)team["id"]!;
        var alias = (string)team["keys"]![0]!["key_value"]!;
        var product = (string)(await _client.CreateProductAsync(id))["id"]!;
        var other = (string)(await _client.CreateTeamAsync())["id"]!;
        var admin = service.Client(CpmService.AdminKey);
        var webhook = (string)(await admin.PostAsync("/Webhooks", """{"url": "http://127.0.0.1:9/hook", "secret": "a-secret-of-16-chars"}""")).Json()["id"]!;

        var exchanges = new (string Operation, Func<Task<Reply>> Send)[]
        {
            ("post /ProductTeam", () => _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "Doc Team"}""")),
            ("post /ProductTeam", () => _client.PostAsync("/ProductTeam", "{}")),
            ("post /ProductTeam", () => _client.PostAsync("/ProductTeam", """{"ods_code": "BAD9", "name": "n"}""")),
            ("post /ProductTeam", () => service.Client(apiKey: "wrong").PostAsync("/ProductTeam", "{}")),
            ("get /ProductTeam", () => _client.GetAsync($"/ProductTeam?organisation_code={team["ods_code"]}")),
            ("get /ProductTeam", () => _client.GetAsync("/ProductTeam")),
            ("get /ProductTeam/{product_team_id}", () => _client.GetAsync($"/ProductTeam/{alias}")),
            ("get /ProductTeam/{product_team_id}", () => _client.GetAsync("/ProductTeam/missing")),
            ("get /ProductTeam/{product_team_id}", () => service.Client(version: null).GetAsync("/ProductTeam/missing")),
            ("delete /ProductTeam/{product_team_id}", () => _client.DeleteAsync($"/ProductTeam/{id}")),
            ("delete /ProductTeam/{product_team_id}", () => _client.DeleteAsync($"/ProductTeam/{other}")),
            ("post /ProductTeam/{product_team_id}/Product", () => _client.PostAsync($"/ProductTeam/{id}/Product", """{"name": "Doc Product"}""")),
            ("post /ProductTeam/{product_team_id}/Product", () => _client.PostAsync("/ProductTeam/missing/Product", """{"name": "x"}""")),
            ("get /Product", () => _client.GetAsync($"/Product?product_team_id={id}")),
            ("get /Product", () => _client.GetAsync("/Product")),
            ("get /Product/{product_id}", () => _client.GetAsync($"/Product/{product}")),
            ("get /Product/{product_id}", () => _client.GetAsync("/Product/P.AAA-AAA")),
            ("delete /ProductTeam/{product_team_id}/Product/{product_id}", () => _client.DeleteAsync($"/ProductTeam/{id}/Product/{product}")),
            ("delete /ProductTeam/{product_team_id}/Product/{product_id}", () => _client.DeleteAsync($"/ProductTeam/{id}/Product/{product}")),
            ("post /Webhooks", () => admin.PostAsync("/Webhooks", """{"url": "https://example.org/hook", "secret": "a-secret-of-16-chars", "description": "Docs"}""")),
            ("post /Webhooks", () => admin.PostAsync("/Webhooks", "{}")),
            ("post /Webhooks", () => _client.PostAsync("/Webhooks", "{}")),
            ("get /Webhooks", () => admin.GetAsync("/Webhooks")),
            ("get /Webhooks/{webhook_id}", () => admin.GetAsync($"/Webhooks/{webhook}")),
            ("get /Webhooks/{webhook_id}", () => admin.GetAsync("/Webhooks/missing")),
            ("delete /Webhooks/{webhook_id}", () => admin.DeleteAsync($"/Webhooks/{webhook}")),
            ("delete /Webhooks/{webhook_id}", () => admin.DeleteAsync($"/Webhooks/{webhook}")),
            ("get /_status", () => _client.GetAsync("/_status")),
            ("get /_ping", () => service.Client(apiKey: null, version: null).GetAsync("/_ping")),
            ("get /_ready", () => service.Client(apiKey: null, version: null).GetAsync("/_ready")),
        };

        var seen = new HashSet<string>();
        foreach (var (operation, send) in exchanges)
        {
            var reply = await send();
            var (method, path) = (operation.Split(' ')[0], operation.Split(' ')[1]);
            var declared = document["paths"]![path]![method]!["responses"]![((int)reply.Status).ToString()];
            Assert.True(declared is not null, $"{operation} answered {(int)reply.Status}, which the document does not declare: {reply.Body}");
            var schema = declared!["content"]!["application/json"]!["schema"]!;
            SchemaAssert.Matches(document, schema, JsonNode.Parse(reply.Body), $"{operation} {(int)reply.Status}");
            seen.Add($"{operation} {(int)reply.Status}");
        }

        Assert.Contains("delete /ProductTeam/{product_team_id} 409", seen);
        Assert.Contains("post /ProductTeam 422", seen);
    }

    private static bool IsDocumentationItself(string path) =>
        path.StartsWith("/docs", StringComparison.Ordinal) || path.StartsWith("/openapi/", StringComparison.Ordinal);

    private async Task<JsonObject> DocumentAsync()
    {
        var reply = await _client.GetAsync("/openapi/v1.json");
        reply.AssertStatus(HttpStatusCode.OK);
        return reply.Json();
    }
}

/// <summary>Just enough JSON Schema to hold real bodies to the document: types, required, no extras.</summary>
internal static class SchemaAssert
{
    private static bool Fits(JsonObject document, JsonNode schema, JsonNode? value, string where)
    {
        try
        {
            Matches(document, schema, value, where);
            return true;
        }
        catch (Xunit.Sdk.XunitException)
        {
            return false;
        }
    }

    public static void Matches(JsonObject document, JsonNode schema, JsonNode? value, string where)
    {
        if (schema["$ref"] is { } reference)
        {
            var name = ((string)reference!).Split('/')[^1];
            Matches(document, document["components"]!["schemas"]![name]!, value, where);
            return;
        }

        // A nullable object is written as oneOf null or its schema.
        if (schema["oneOf"] is JsonArray choices)
        {
            Assert.True(choices.Any(choice => Fits(document, choice!, value, where)), $"{where}: matches none of the schema's choices");
            return;
        }

        var types = schema["type"] switch
        {
            JsonArray many => many.Select(t => (string)t!).ToHashSet(),
            JsonValue one => [(string)one!],
            _ => [],
        };
        if (value is null)
        {
            Assert.True(types.Contains("null"), $"{where}: null where the schema says {string.Join("|", types)}");
            return;
        }

        switch (value)
        {
            case JsonObject obj:
                Assert.True(types.Contains("object"), $"{where}: object where the schema says {string.Join("|", types)}");
                var properties = schema["properties"]!.AsObject();
                foreach (var required in schema["required"]?.AsArray() ?? [])
                {
                    Assert.True(obj.ContainsKey((string)required!), $"{where}: required '{required}' is missing");
                }

                foreach (var (key, child) in obj)
                {
                    Assert.True(properties.ContainsKey(key), $"{where}: '{key}' is not in the schema");
                    Matches(document, properties[key]!, child, $"{where}.{key}");
                }

                break;
            case JsonArray array:
                Assert.True(types.Contains("array"), $"{where}: array where the schema says {string.Join("|", types)}");
                foreach (var item in array)
                {
                    Matches(document, schema["items"]!, item, $"{where}[]");
                }

                break;
            default:
                Assert.True(types.Contains("string"), $"{where}: {value.GetValueKind()} where the schema says {string.Join("|", types)}");
                break;
        }
    }
}
