using System.Net;
using Cpm.Api.Storage;
using Cpm.Api.Storage.DynamoDb;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>
/// The DynamoDB calls each request makes, counted by the proxy in front of moto (docs/DYNAMODB.md,
/// "Calls per operation"). On AWS a request takes about its number of sequential calls times a few
/// milliseconds, so these numbers are pinned exactly. The table is taken over (<c>migrate</c>).
/// </summary>
public sealed class CallCountTests(DynamoDbFaultService service) : IClassFixture<DynamoDbFaultService>, IAsyncLifetime
{
    private readonly CpmClient _client = service.Client();

    public async Task InitializeAsync() => await ((DynamoDbStore)service.Services.GetRequiredService<ICpmStore>()).MigrateAsync(CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task TeamsAreCreatedInTwoCallsAndReadByIdOrAliasInOne()
    {
        var ods = Unique.OdsCode();
        var alias = Guid.NewGuid().ToString();

        var (created, createCalls) = await CountAsync(() => _client.PostAsync("/ProductTeam", TeamBody(ods, alias)));
        var id = (string)created.Json()["id"]!;
        var (byId, byIdCalls) = await CountAsync(() => _client.GetAsync($"/ProductTeam/{id}"));
        var (byAlias, byAliasCalls) = await CountAsync(() => _client.GetAsync($"/ProductTeam/{alias}"));

        created.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(["GetItem", "TransactWriteItems"], createCalls);
        Assert.Equal(["GetItem"], byIdCalls);
        Assert.Equal(["GetItem"], byAliasCalls);
        Assert.Equal(created.Body, byId.Body);
        Assert.Equal(created.Body, byAlias.Body);
    }

    [Fact]
    public async Task ProductsAreCreatedInThreeCallsReadInOneAndDeletedInThree()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;

        var (created, createCalls) = await CountAsync(() => _client.PostAsync($"/ProductTeam/{alias}/Product", """{"name": "Counted"}"""));
        var id = (string)created.Json()["id"]!;
        var (read, readCalls) = await CountAsync(() => _client.GetAsync($"/Product/{id}"));
        var (deleted, deleteCalls) = await CountAsync(() => _client.DeleteAsync($"/ProductTeam/{alias}/Product/{id}"));
        var (gone, goneCalls) = await CountAsync(() => _client.GetAsync($"/Product/{id}"));

        created.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(["GetItem", "GetItem", "TransactWriteItems"], createCalls);
        Assert.Equal(["GetItem"], readCalls);
        Assert.Equal(created.Body, read.Body);
        deleted.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["GetItem", "BatchGetItem", "TransactWriteItems"], deleteCalls);
        gone.AssertStatus(HttpStatusCode.NotFound);
        Assert.Equal(["GetItem"], goneCalls);
        Assert.Equal("inactive", (string)(await _client.GetAsync($"/Product/{id}?include_deleted=true")).Json()["status"]!);
    }

    [Fact]
    public async Task AnotherProductInATeamKnownByIdTakesTwoCalls()
    {
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        await _client.CreateProductAsync(team);

        var (created, calls) = await CountAsync(() => _client.PostAsync($"/ProductTeam/{team}/Product", """{"name": "Counted"}"""));

        created.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(["GetItem", "TransactWriteItems"], calls);
    }

    [Fact]
    public async Task SearchesTakeTwoCallsByTeamAndOneByOrganisation()
    {
        var ods = Unique.OdsCode();
        var teams = new List<string>();
        for (var index = 0; index < 3; index++)
        {
            var team = (string)(await _client.CreateTeamAsync(ods))["id"]!;
            teams.Add(team);
            await _client.CreateProductAsync(team);
        }

        var (byTeam, byTeamCalls) = await CountAsync(() => _client.GetAsync($"/Product?product_team_id={teams[0]}"));
        var (byOrganisation, byOrganisationCalls) = await CountAsync(() => _client.GetAsync($"/Product?organisation_code={ods}"));

        byTeam.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["GetItem", "Query"], byTeamCalls);
        Assert.Equal(["Query"], byOrganisationCalls);
        var listed = byOrganisation.Json()["results"]![0]!["product_teams"]!.AsArray().Select(team => (string)team!["cpm_product_team_id"]!);
        Assert.Equal(teams.Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public async Task TeamWithAnAliasIsDeletedInFourCalls()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;

        var (deleted, calls) = await CountAsync(() => _client.DeleteAsync($"/ProductTeam/{alias}"));

        deleted.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["GetItem", "BatchGetItem", "Query", "TransactWriteItems"], calls);
        (await _client.GetAsync($"/ProductTeam/{alias}")).AssertStatus(HttpStatusCode.NotFound);
        await _client.CreateTeamAsync(alias: alias);
    }

    private async Task<(Reply Reply, IReadOnlyList<string> Calls)> CountAsync(Func<Task<Reply>> request)
    {
        service.Faults.ForgetCalls();
        var reply = await request();
        return (reply, service.Faults.Calls);
    }

    private static string TeamBody(string ods, string alias) =>
        $$"""{"ods_code": "{{ods}}", "name": "Counted", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""";
}
