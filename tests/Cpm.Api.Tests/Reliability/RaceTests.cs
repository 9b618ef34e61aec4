using System.Net;
using Cpm.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Reliability;

/// <summary>Concurrent requests for the same thing: exactly one wins, the others get the contract's answer, never a 5xx.</summary>
public sealed class RaceTests(SqliteService service, ITestOutputHelper output) : IClassFixture<SqliteService>
{
    private const int Racers = 32;
    private const int Rounds = 50;

    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task ConcurrentCreatesOfOneAliasGiveOne201AndTheRest400ItemAlreadyExists()
    {
        var alias = Guid.NewGuid().ToString();
        var ods = Unique.OdsCode();
        var body = $$"""{"ods_code": "{{ods}}", "name": "Racing Team", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""";

        var replies = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => _client.PostAsync("/ProductTeam", body))));

        var created = Assert.Single(replies, reply => reply.Status == HttpStatusCode.Created);
        foreach (var reply in replies.Where(reply => reply != created))
        {
            reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Item already exists");
        }

        var listed = await _client.GetAsync($"/ProductTeam?organisation_code={ods}");
        Assert.Equal($$"""{"results": [{{created.Body}}]}""", listed.Body);
        var byAlias = await _client.GetAsync($"/ProductTeam/{alias}");
        Assert.Equal(created.Body, byAlias.Body);
        output.WriteLine($"{Racers} creates of one alias: 1 × 201, {Racers - 1} × 400");
    }

    [Fact]
    public async Task ProductCreateRacingTeamDeleteNeverLeavesALiveProductUnderADeletedTeam()
    {
        var productWon = 0;
        var deleteWon = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var teamId = (string)(await _client.CreateTeamAsync())["id"]!;
            // A create does more work before its write than a delete, so the delete is held back a
            // little in some rounds: both orders, and the overlap between them, get exercised.
            var holdBack = TimeSpan.FromMilliseconds(round % 3);
            var create = Task.Run(() => _client.PostAsync($"/ProductTeam/{teamId}/Product", """{"name": "Racer"}"""));
            var delete = Task.Run(async () =>
            {
                await Task.Delay(holdBack);
                return await _client.DeleteAsync($"/ProductTeam/{teamId}");
            });
            var (created, deleted) = (await create, await delete);

            var team = await _client.GetAsync($"/ProductTeam/{teamId}");
            if (created.Status == HttpStatusCode.Created)
            {
                productWon++;
                Assert.Equal(HttpStatusCode.Conflict, deleted.Status);
                var productId = (string)created.Json()["id"]!;
                deleted.AssertError(HttpStatusCode.Conflict, "CONFLICT",
                    $"Product Team cannot be deleted as it still has associated Product Ids ['{productId}']");
                team.AssertStatus(HttpStatusCode.OK);
                var product = await _client.GetAsync($"/Product/{productId}");
                Assert.Equal(created.Body, product.Body);
            }
            else
            {
                deleteWon++;
                created.AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{teamId}')");
                deleted.AssertStatus(HttpStatusCode.OK);
                team.AssertStatus(HttpStatusCode.NotFound);
                var search = await _client.GetAsync($"/Product?product_team_id={teamId}");
                Assert.Equal("""{"results": []}""", search.Body);
            }
        }

        output.WriteLine($"{Rounds} rounds of product create against team delete: product first {productWon}, delete first {deleteWon}, both never");
    }

    [Fact]
    public async Task ConcurrentDeletesOfOneTeamGiveExactlyOne200AndTheRest404()
    {
        var teamId = (string)(await _client.CreateTeamAsync())["id"]!;

        var replies = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => _client.DeleteAsync($"/ProductTeam/{teamId}"))));

        var deleted = Assert.Single(replies, reply => reply.Status == HttpStatusCode.OK);
        Assert.Equal($$"""{"code": "RESOURCE_DELETED", "message": "{{teamId}} has been deleted."}""", deleted.Body);
        foreach (var reply in replies.Where(reply => reply != deleted))
        {
            reply.AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{teamId}')");
        }
    }

    [Fact]
    public async Task ConcurrentDeletesOfOneProductGiveExactlyOne200AndTheRest404()
    {
        var teamId = (string)(await _client.CreateTeamAsync())["id"]!;
        var productId = (string)(await _client.CreateProductAsync(teamId))["id"]!;

        var replies = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ =>
            Task.Run(() => _client.DeleteAsync($"/ProductTeam/{teamId}/Product/{productId}"))));

        var deleted = Assert.Single(replies, reply => reply.Status == HttpStatusCode.OK);
        Assert.Equal($$"""{"code": "RESOURCE_DELETED", "message": "{{productId}} has been deleted."}""", deleted.Body);
        foreach (var reply in replies.Where(reply => reply != deleted))
        {
            reply.AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find CpmProduct for key ('{teamId}', '{productId}')");
        }

        (await _client.GetAsync($"/Product/{productId}")).AssertStatus(HttpStatusCode.NotFound);
        (await _client.DeleteAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.OK);
    }
}
