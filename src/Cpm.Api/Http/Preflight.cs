using Microsoft.AspNetCore.Routing.Patterns;

namespace Cpm.Api.Http;

/// <summary>
/// CORS pre-flight for every route, derived from the routes actually mapped so a new route
/// can never miss it. Answers 200 with no body and needs no api key.
/// </summary>
internal static class Preflight
{
    private const string AllowedHeaders = "apikey,authorization,content-type,version,if-match,x-request-id,x-correlation-id";

    // Methods the existing service advertises on a route beyond those mapped there; clients' pre-flight checks expect them.
    private static readonly Dictionary<string, string[]> AdvertisedMethods = new(StringComparer.OrdinalIgnoreCase)
    {
        ["/ProductTeam/{product_team_id}/Product"] = [HttpMethods.Get],
    };

    public static void MapPreflightRequests(this IEndpointRouteBuilder routes)
    {
        var methodsByRoute = routes.DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Select(endpoint => (Pattern: endpoint.RoutePattern, Methods: endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []))
            .GroupBy(route => Normalise(route.Pattern), StringComparer.OrdinalIgnoreCase)
            .ToList();

        foreach (var route in methodsByRoute)
        {
            var methods = string.Join(',', route.SelectMany(r => r.Methods)
                .Concat(AdvertisedMethods.GetValueOrDefault(route.Key, []))
                .Append(HttpMethods.Options)
                .Distinct()
                .Order(StringComparer.Ordinal));
            routes.MapMethods(route.Key, [HttpMethods.Options], (HttpResponse response) =>
            {
                response.Headers.AccessControlAllowMethods = methods;
                response.Headers.AccessControlAllowHeaders = AllowedHeaders;
                return Results.Ok();
            }).ExcludeFromDescription();
        }
    }

    private static string Normalise(RoutePattern pattern) => "/" + (pattern.RawText ?? "").Trim('/');
}
