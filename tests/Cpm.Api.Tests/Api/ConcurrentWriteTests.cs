using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// Writes that arrive together (and so may share one commit) are each acknowledged with their own
/// answer, and each one acknowledged is there afterwards; one refused does not take others with it.
/// </summary>
public abstract class ConcurrentWriteTests(CpmService service)
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task ManyProductsCreatedAtOnceAreAllAcknowledgedAndAllFound()
    {
        var ods = Unique.OdsCode();
        var team = (string)(await _client.CreateTeamAsync(ods))["id"]!;

        var replies = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            _client.PostAsync($"/ProductTeam/{team}/Product", $$"""{"name": "Burst {{i}}"}""")));

        Assert.All(replies, reply => reply.AssertStatus(HttpStatusCode.Created));
        var created = replies.Select(reply => (string)reply.Json()["id"]!).ToList();
        Assert.Equal(64, created.Distinct().Count());
        var found = (await _client.GetAsync($"/Product?organisation_code={ods}")).Json()["results"]![0]!["product_teams"]![0]!["products"]!
            .AsArray().Select(product => (string)product!["id"]!).ToList();
        Assert.Equal(created.Order(StringComparer.Ordinal), found);
    }

    [Fact]
    public async Task AWriteRefusedAmongOthersLeavesTheOthersWritten()
    {
        var ods = Unique.OdsCode();
        var alias = Guid.NewGuid().ToString();
        var racer = $$"""{"ods_code": "{{ods}}", "name": "Racer", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""";
        var racers = Enumerable.Range(0, 16).Select(_ => _client.PostAsync("/ProductTeam", racer));
        var others = Enumerable.Range(0, 16).Select(i => _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Other {{i}}"}"""));

        var replies = await Task.WhenAll(racers.Concat(others));

        Assert.Single(replies.Take(16), reply => reply.Status == HttpStatusCode.Created);
        Assert.All(replies.Skip(16), reply => reply.AssertStatus(HttpStatusCode.Created));
        var listed = (await _client.GetAsync($"/ProductTeam?organisation_code={ods}")).Json()["results"]!.AsArray();
        Assert.Equal(17, listed.Count);
        Assert.All(replies.Where(reply => reply.Status == HttpStatusCode.Created),
            reply => Assert.Contains(listed, team => (string)team!["id"]! == (string)reply.Json()["id"]!));
    }
}

public sealed class SqliteConcurrentWriteTests(SqliteService service) : ConcurrentWriteTests(service), IClassFixture<SqliteService>;
