using System.Net;
using System.Text.RegularExpressions;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Reliability;

/// <summary>A service on a real socket with distinctive keys, whose every log line, at every level, is kept.</summary>
public sealed class LoggedService : IAsyncLifetime
{
    public const string Key = "auth-key-0-9f3c2b7e";
    public const string SecondKey = "auth-key-1-71d0aa4c";

    public LogCapture Logs { get; } = new();

    public FakeOrd Ord { get; private set; } = null!;

    public IsolatedService Service { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Ord = await FakeOrd.StartAsync();
        Service = IsolatedService.Start(Ord.BaseUrl, new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = Key,
            ["Auth:ApiKeys:1"] = SecondKey,
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace",
            ["Logging:LogLevel:Polly"] = "Trace",
            ["Logging:Console:LogLevel:Default"] = "None",
        }, services => services.AddSingleton<ILoggerProvider>(Logs), kestrel: true);
    }

    public CpmClient Client(string? apiKey = Key, string? version = "1") => Service.Client(apiKey, version);

    public async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        await Ord.DisposeAsync();
    }
}

/// <summary>
/// Every mapped route, read from the app's own endpoint table so a new route cannot be missed:
/// no key, an empty key or a wrong key is 403 and changes nothing; pre-flight needs no key; keys never reach the logs.
/// </summary>
public sealed partial class AuthTests(LoggedService logged, ITestOutputHelper output) : IClassFixture<LoggedService>
{
    private const string WrongKey = "wrong-key-c0ffee42";

    private static readonly string[] ContractHeaders = ["apikey", "authorization", "content-type", "version"];

    // Deliberately public: the load balancer's probes and the API's own documentation. A route
    // missing from here must refuse callers without a key.
    private static readonly string[] PublicRoutes = ["/_ping", "/_ready", "/openapi/v1.json"];
    private const string PublicDocs = "/docs/";

    private readonly CpmClient _client = logged.Client();

    [Fact]
    public async Task EveryRouteRefusesMissingEmptyAndWrongKeysWith403AndChangesNothing()
    {
        var world = await SeedAsync();
        var before = await SnapshotAsync(world);
        var guarded = Routes().Where(route => route.Method != HttpMethods.Options && !IsPublic(route.Pattern)).ToList();

        foreach (var (method, pattern) in guarded)
        {
            var path = world.PathFor(pattern);
            var body = method is "GET" or "DELETE" ? null : world.BodyFor(method, pattern);
            var variants = new (string Name, CpmClient Client, (string, string)[] Headers, string Message)[]
            {
                ("no key", logged.Client(apiKey: null), [], "Missing apikey header"),
                ("no key and no version", logged.Client(apiKey: null, version: null), [], "Missing apikey header"),
                ("empty key", logged.Client(apiKey: ""), [], "Invalid apikey"),
                ("wrong key", logged.Client(apiKey: WrongKey), [], "Invalid apikey"),
                ("key cut short", logged.Client(apiKey: LoggedService.Key[..^1]), [], "Invalid apikey"),
                ("key in Authorization only", logged.Client(apiKey: null), [("Authorization", $"Bearer {LoggedService.Key}")], "Missing apikey header"),
            };
            foreach (var (name, client, headers, message) in variants)
            {
                // If-Match: * so that a PATCH which slipped through would really rename.
                var reply = await client.SendAsync(new HttpMethod(method), path, body, [.. headers, ("If-Match", "*")]);
                Assert.True(reply.Status == HttpStatusCode.Forbidden, $"{method} {pattern} with {name}: {(int)reply.Status} {reply.Body}");
                reply.AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", message);
            }
        }

        Assert.Equal(before, await SnapshotAsync(world));
        foreach (var (method, pattern) in Routes().Where(route => route.Method == HttpMethods.Get && IsPublic(route.Pattern)))
        {
            var reply = await logged.Client(apiKey: null, version: null).GetAsync(world.PathFor(pattern));
            Assert.True((int)reply.Status < 500, $"public {method} {pattern}: {(int)reply.Status}");
        }

        output.WriteLine($"{guarded.Count * 6} refusals over {guarded.Count} guarded route methods; nothing changed; public: "
            + string.Join(", ", Routes().Where(route => route.Method != HttpMethods.Options && IsPublic(route.Pattern)).Select(route => route.Pattern)));
    }

    [Theory]
    [InlineData("apikey")]
    [InlineData("APIKEY")]
    [InlineData("ApiKey")]
    [InlineData("aPiKeY")]
    public async Task ApiKeyHeaderNameIsCaseInsensitiveOnEveryRoute(string header)
    {
        var world = await SeedAsync();
        var client = logged.Client(apiKey: null);

        foreach (var (method, pattern) in Routes().Where(route => route.Method is "GET" && !IsPublic(route.Pattern)))
        {
            var reply = await client.SendAsync(HttpMethod.Get, world.PathFor(pattern), null, (header, LoggedService.SecondKey));
            var refused = reply.Body.Contains("Missing apikey header", StringComparison.Ordinal) || reply.Body.Contains("Invalid apikey", StringComparison.Ordinal);
            Assert.True(!refused && (int)reply.Status < 500,
                $"{method} {pattern} with header {header}: {(int)reply.Status} {reply.Body}");
        }

        var created = await client.PostAsync($"/ProductTeam/{world.TeamWithProduct}/Product", """{"name": "Any Case"}""", (header, LoggedService.Key));
        created.AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task PreflightWithoutAKeyAnswersOnEveryRoute()
    {
        var world = await SeedAsync();
        var routes = Routes().ToList();

        foreach (var pattern in routes.Select(route => route.Pattern).Distinct(StringComparer.Ordinal))
        {
            var methods = routes.Where(route => route.Pattern == pattern).Select(route => route.Method).ToList();
            Assert.True(methods.Contains(HttpMethods.Options), $"{pattern} has no pre-flight route");
            foreach (var client in new[] { logged.Client(apiKey: null, version: null), logged.Client(apiKey: WrongKey, version: null) })
            {
                var reply = await client.SendAsync(HttpMethod.Options, world.PathFor(pattern), null,
                    ("Origin", "https://example.org"), ("Access-Control-Request-Method", methods[0]));

                reply.AssertStatus(HttpStatusCode.OK);
                Assert.Equal("", reply.Body);
                Assert.Equal("*", reply.Header("Access-Control-Allow-Origin"));
                var allowed = reply.Header("Access-Control-Allow-Methods")!.Split(',');
                Assert.All(methods, method => Assert.Contains(method, allowed));
                var headers = reply.Header("Access-Control-Allow-Headers")!.Split(',');
                Assert.All(ContractHeaders, header => Assert.Contains(header, headers));
            }
        }
    }

    [Fact]
    public async Task ConfiguredAndPresentedKeysNeverAppearInTheLogs()
    {
        var world = await SeedAsync();
        var second = logged.Client(LoggedService.SecondKey);
        var failing = Unique.OdsCode();
        logged.Ord.FailTimes(failing, 1);
        await second.CreateTeamAsync(failing);
        await second.PostAsync("/ProductTeam", """{"ods_code": "BADCODE", "name": "Unknown Org"}""");
        await second.PostAsync("/ProductTeam", "{not json");
        await second.DeleteAsync($"/ProductTeam/{world.TeamWithProduct}");
        await second.GetAsync("/Product/P.XXX-XXX");
        await second.GetAsync("/nowhere");
        await logged.Client(LoggedService.Key, version: "0").GetAsync($"/ProductTeam/{world.EmptyTeam}");
        await logged.Client(WrongKey).GetAsync("/_status");
        await logged.Client(LoggedService.Key + "x").GetAsync("/_status");
        await logged.Client(apiKey: null).SendAsync(HttpMethod.Get, "/_status", null, ("Authorization", $"Bearer {LoggedService.Key}"));

        var text = logged.Logs.Text;
        Assert.Contains("RequestContextMiddleware", text, StringComparison.Ordinal);
        Assert.Contains("Trace", text, StringComparison.Ordinal);
        foreach (var secret in new[] { LoggedService.Key, LoggedService.SecondKey, WrongKey })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        output.WriteLine($"{logged.Logs.Lines.Count} log lines at every level; no key in any of them");
    }

    private static bool IsPublic(string pattern) => PublicRoutes.Contains(pattern) || pattern.StartsWith(PublicDocs, StringComparison.Ordinal);

    /// <summary>Every mapped (method, route pattern), from the app's own endpoint table.</summary>
    private IEnumerable<(string Method, string Pattern)> Routes() =>
        logged.Service.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
                .Select(method => (method, "/" + (endpoint.RoutePattern.RawText ?? "").Trim('/'))))
            .Distinct();

    private async Task<World> SeedAsync()
    {
        var ods = Unique.OdsCode();
        var withProduct = (string)(await _client.CreateTeamAsync(ods))["id"]!;
        var product = (string)(await _client.CreateProductAsync(withProduct))["id"]!;
        var deletedProduct = (string)(await _client.CreateProductAsync(withProduct))["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{withProduct}/Product/{deletedProduct}")).AssertStatus(HttpStatusCode.OK);
        var empty = (string)(await _client.CreateTeamAsync(ods))["id"]!;
        var deletedTeam = (string)(await _client.CreateTeamAsync(ods))["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{deletedTeam}")).AssertStatus(HttpStatusCode.OK);
        Assert.Contains(Routes(), route => route == ("DELETE", "/ProductTeam/{product_team_id}/Product/{product_id}"));
        return new World(ods, withProduct, product, deletedProduct, empty, deletedTeam);
    }

    /// <summary>Everything a slipped-through request could change, read back with a key.</summary>
    private async Task<string> SnapshotAsync(World world)
    {
        var reads = new List<string>
        {
            $"/ProductTeam/{world.TeamWithProduct}", $"/ProductTeam/{world.EmptyTeam}", $"/ProductTeam/{world.DeletedTeam}?include_deleted=true",
            $"/Product/{world.Product}", $"/Product/{world.DeletedProduct}?include_deleted=true",
            $"/ProductTeam?organisation_code={world.OdsCode}", $"/Product?organisation_code={world.OdsCode}", $"/ProductTeam/{World.SneakyAlias}",
            $"/ProductTeam/{world.TeamWithProduct}/History", $"/ProductTeam/{world.EmptyTeam}/History", $"/ProductTeam/{world.DeletedTeam}/History",
            $"/Product/{world.Product}/History", $"/Product/{world.DeletedProduct}/History",
        };
        var bodies = new List<string>();
        foreach (var read in reads)
        {
            var reply = await _client.GetAsync(read);
            bodies.Add($"{(int)reply.Status} {reply.Body}");
        }

        // The whole change feed: any write anywhere adds an event.
        var cursor = "";
        var events = 0;
        while (true)
        {
            var page = (await _client.GetAsync($"/Events?limit=1000{(cursor.Length > 0 ? "&after=" + cursor : "")}")).Json();
            var count = page["events"]!.AsArray().Count;
            if (count == 0)
            {
                break;
            }

            events += count;
            cursor = (string)page["next_cursor"]!;
        }

        bodies.Add($"{events} events up to {cursor}");
        return string.Join('\n', bodies);
    }

    /// <summary>Live, deleted and empty teams and products, so a request that slipped through would change something.</summary>
    private sealed partial record World(string OdsCode, string TeamWithProduct, string Product, string DeletedProduct, string EmptyTeam, string DeletedTeam)
    {
        public const string SneakyAlias = "0b0e8a52-5f3c-4d8e-a1b2-c3d4e5f6a7b8";

        public string PathFor(string pattern)
        {
            var restore = pattern.EndsWith("/Restore", StringComparison.Ordinal);
            var productRoute = pattern.Contains("{product_id", StringComparison.Ordinal);
            return Parameter().Replace(pattern, match => match.Groups[1].Value switch
            {
                "product_team_id" when productRoute => TeamWithProduct,
                "product_team_id" => restore ? DeletedTeam : EmptyTeam,
                "product_id" => restore ? DeletedProduct : Product,
                var other => $"unknown-{other}",
            });
        }

        public string BodyFor(string method, string pattern) => (method, pattern) switch
        {
            ("POST", "/ProductTeam") =>
                $$"""{"ods_code": "{{OdsCode}}", "name": "Sneaky Team", "keys": [{"key_type": "product_team_id", "key_value": "{{SneakyAlias}}"}]}""",
            _ => """{"name": "Sneaky Name"}""",
        };

        [GeneratedRegex(@"\{\**([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")]
        private static partial Regex Parameter();
    }
}
