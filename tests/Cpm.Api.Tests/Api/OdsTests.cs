using System.Diagnostics;
using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md section 7: the ODS organisation check, against a fake ORD server.</summary>
public abstract class OdsTests(CpmService service)
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task UnknownOdsCodeIsUnprocessableNamingTheUrl()
    {
        var reply = await _client.PostAsync("/ProductTeam", """{"ods_code": "BAD1", "name": "n"}""");

        reply.AssertError(HttpStatusCode.UnprocessableEntity, "UNPROCESSABLE_ENTITY", $"Invalid ODS Code: could not resolve '{service.Ord.BaseUrl}/BAD1'");
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("   ", "   ")]
    [InlineData("\\t\\n", "\t\n")]
    public async Task BlankOdsCodeIsInvalidWithoutAsking(string odsCodeInJson, string odsCode)
    {
        var requestsBefore = service.Ord.Requests;

        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{odsCodeInJson}}", "name": "n"}""");

        reply.AssertError(HttpStatusCode.UnprocessableEntity, "UNPROCESSABLE_ENTITY", $"Invalid ODS Code: could not resolve '{service.Ord.BaseUrl}/{odsCode}'");
        Assert.Equal(requestsBefore, service.Ord.Requests);
    }

    [Fact]
    public async Task ServerErrorsAreRetriedAndRecoverWithoutTheCallerNoticing()
    {
        var ods = Unique.OdsCode();
        service.Ord.FailTimes(ods, 2);

        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "n"}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(3, service.Ord.CallsFor(ods));
    }

    [Fact]
    public async Task KnownGoodCodesAreCachedBriefly()
    {
        var ods = Unique.OdsCode();
        await _client.CreateTeamAsync(ods);
        await _client.CreateTeamAsync(ods);

        Assert.Equal(1, service.Ord.CallsFor(ods));
    }

    [Fact]
    public async Task RateLimitingByOdsIsUnavailabilityNotAnInvalidCode()
    {
        var ods = Unique.OdsCode();
        service.Ord.Set(ods, OrdBehaviour.RateLimited);

        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "n"}""");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
        Assert.NotNull(reply.Header("Retry-After"));
    }

    [Fact]
    public async Task OdsThatStaysDownGivesServiceUnavailableWithRetryAfterAndWritesNothing()
    {
        var ods = Unique.OdsCode();
        service.Ord.Set(ods, OrdBehaviour.ServerError);
        var clock = Stopwatch.StartNew();

        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "n"}""");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
        Assert.StartsWith("""{"errors": [{"code": "SERVICE_UNAVAILABLE", "message": "ODS is unavailable""", reply.Body);
        Assert.NotNull(reply.Header("Retry-After"));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(15));
        Assert.Equal("""{"results": []}""", (await _client.GetAsync($"/ProductTeam?organisation_code={ods}")).Body);

        service.Ord.Set(ods, OrdBehaviour.Known);
        (await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "n"}""")).AssertStatus(HttpStatusCode.Created);
    }
}

public sealed class SqliteOdsTests(SqliteService service) : OdsTests(service), IClassFixture<SqliteService>;
