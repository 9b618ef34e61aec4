using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md sections 18 (CORS) and 2 (headers): api key, version, request ids.</summary>
public abstract class HeaderTests(CpmService service)
{
    private static readonly HashSet<string> RequiredAllowedHeaders =
        ["apikey", "authorization", "content-type", "version", "if-match", "x-request-id", "x-correlation-id"];

    [Theory]
    [InlineData(null, "Missing apikey header")]
    [InlineData("", "Invalid apikey")]
    [InlineData("wrong", "Invalid apikey")]
    public async Task RequestsWithoutAValidKeyAreDenied(string? key, string message)
    {
        var reply = await service.Client(apiKey: key).GetAsync("/Product/P.AAA-AAA");

        reply.AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", message);
        Assert.Equal("null", reply.Header("Version"));
    }

    [Fact]
    public async Task AuthIsCheckedBeforeTheVersionHeader()
    {
        var reply = await service.Client(apiKey: null, version: null).GetAsync("/Product/P.AAA-AAA");

        reply.AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Missing apikey header");
    }

    [Fact]
    public async Task ApiKeyHeaderNameIsCaseInsensitiveAndEveryConfiguredKeyWorks()
    {
        var client = service.Client(apiKey: null);

        (await client.GetAsync("/_status", ("APIKEY", CpmService.ApiKey))).AssertStatus(HttpStatusCode.OK);
        (await client.GetAsync("/_status", ("ApiKey", CpmService.SecondApiKey))).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task MissingVersionIsMissingValue()
    {
        var reply = await service.Client(version: null).GetAsync("/Product/P.AAA-AAA");

        reply.AssertError(HttpStatusCode.BadRequest, "MISSING_VALUE", "Event.headers.version: field required");
        Assert.Equal("null", reply.Header("Version"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not_a_number")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("1__0")]
    [InlineData("_1")]
    [InlineData("0x1")]
    public async Task NonIntegerVersionIsInvalid(string version)
    {
        var reply = await service.Client(version: version).GetAsync("/Product/P.AAA-AAA");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Event.headers.version: value is not a valid integer");
        Assert.Equal("null", reply.Header("Version"));
    }

    [Fact]
    public async Task AbsurdlyLongVersionIsInvalidNotAnError()
    {
        var reply = await service.Client(version: new string('9', 5000)).GetAsync("/Product/P.AAA-AAA");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Event.headers.version: value is not a valid integer");
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("-1", "-1")]
    [InlineData("-0", "0")]
    [InlineData(" -007 ", "-7")]
    public async Task VersionsBelowOneAreNotSupported(string version, string parsed)
    {
        var reply = await service.Client(version: version).GetAsync("/Product/P.AAA-AAA");

        reply.AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", $"Version not supported: {parsed}");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("+1")]
    [InlineData(" 2 ")]
    [InlineData("0001")]
    [InlineData("1_000")]
    [InlineData("99999999999999999999999999999")]
    public async Task IntegerVersionsResolveToTheHighestAvailable(string version)
    {
        var reply = await service.Client(version: version).GetAsync("/Product/P.AAA-AAA");

        reply.AssertStatus(HttpStatusCode.NotFound);
        Assert.Equal("1", reply.Header("Version"));
    }

    [Fact]
    public async Task VersionHeaderNameIsCaseInsensitive()
    {
        var reply = await service.Client(version: null).GetAsync("/Product/P.AAA-AAA", ("VERSION", "1"));

        Assert.Equal("1", reply.Header("Version"));
    }

    [Fact]
    public async Task StatusAnswersOkWithUnresolvedVersion()
    {
        var reply = await service.Client(version: null).GetAsync("/_status");

        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("""{"code": "OK", "message": "Transaction successful"}""", reply.Body);
        Assert.Equal("null", (await service.Client().GetAsync("/_status")).Header("Version"));
    }

    [Fact]
    public async Task RequestAndCorrelationIdsAreEchoedOnSuccessAndError()
    {
        var client = service.Client();
        var ok = await client.GetAsync("/_status", ("X-Request-Id", "req-1"), ("X-Correlation-Id", "corr-1"));
        var denied = await service.Client(apiKey: "wrong").GetAsync("/Product/x", ("X-Request-Id", "req-2"));

        Assert.Equal("req-1", ok.Header("X-Request-Id"));
        Assert.Equal("corr-1", ok.Header("X-Correlation-Id"));
        Assert.Equal("req-2", denied.Header("X-Request-Id"));
        Assert.Null(denied.Header("X-Correlation-Id"));
    }

    [Theory]
    [InlineData("/ProductTeam", "GET,OPTIONS,POST")]
    [InlineData("/ProductTeam/some-team", "DELETE,GET,OPTIONS,PATCH")]
    [InlineData("/ProductTeam/some-team/Restore", "OPTIONS,POST")]
    [InlineData("/ProductTeam/some-team/History", "GET,OPTIONS")]
    [InlineData("/Product/P.AAA-AAA/History", "GET,OPTIONS")]
    [InlineData("/ProductTeam/some-team/Product/P.AAA-AAA/Restore", "OPTIONS,POST")]
    [InlineData("/Events", "GET,OPTIONS")]
    [InlineData("/Export", "GET,OPTIONS")]
    [InlineData("/ProductTeam/some-team/Product", "GET,OPTIONS,POST")]
    [InlineData("/Product", "GET,OPTIONS")]
    [InlineData("/Product/P.AAA-AAA", "GET,OPTIONS")]
    [InlineData("/ProductTeam/some-team/Product/P.AAA-AAA", "DELETE,OPTIONS,PATCH")]
    [InlineData("/_status", "GET,OPTIONS")]
    public async Task PreflightNeedsNoKeyAndListsTheRoutesMethods(string path, string methods)
    {
        var reply = await service.Client(apiKey: null, version: null).SendAsync(HttpMethod.Options, path, null);

        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("", reply.Body);
        Assert.Equal("*", reply.Header("Access-Control-Allow-Origin"));
        Assert.Equal(methods, reply.Header("Access-Control-Allow-Methods"));
        Assert.Subset(reply.Header("Access-Control-Allow-Headers")!.Split(',').ToHashSet(), RequiredAllowedHeaders);
    }

    [Theory]
    [InlineData("/_ping", "Alive")]
    [InlineData("/_ready", "Ready")]
    public async Task ProbesNeedNoKeyNorVersion(string path, string message)
    {
        var reply = await service.Client(apiKey: null, version: null).GetAsync(path);

        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal($$"""{"code": "OK", "message": "{{message}}"}""", reply.Body);
    }

    [Fact]
    public async Task AuthorizationHeaderIsAcceptedAndIgnored()
    {
        var reply = await service.Client().GetAsync("/_status", ("Authorization", "Bearer whatever"));

        reply.AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task UnknownRoutesAndMethodsGetTheErrorBody()
    {
        var client = service.Client();

        (await client.GetAsync("/Nothing/Here")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "No resource at /Nothing/Here");
        (await client.SendAsync(HttpMethod.Put, "/Product/P.AAA-AAA", "{}"))
            .AssertError(HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED", "Method PUT is not allowed on /Product/P.AAA-AAA");
    }
}

public sealed class SqliteHeaderTests(SqliteService service) : HeaderTests(service), IClassFixture<SqliteService>;
