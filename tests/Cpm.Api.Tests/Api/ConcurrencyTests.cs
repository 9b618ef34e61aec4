using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md section 8: concurrent requests never corrupt state.</summary>
public abstract class ConcurrencyTests(CpmService service)
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task RacingCreatesOfOneAliasHaveExactlyOneWinner()
    {
        var ods = Unique.OdsCode();
        await _client.CreateTeamAsync(ods);
        var alias = Guid.NewGuid().ToString();
        var body = $$"""{"ods_code": "{{ods}}", "name": "Racer", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""";

        var replies = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => _client.PostAsync("/ProductTeam", body)));

        Assert.Single(replies, reply => reply.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(reply => reply.Status != HttpStatusCode.Created),
            reply => reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Item already exists"));
        var winner = replies.Single(reply => reply.Status == HttpStatusCode.Created).Json()["id"]!.ToString();
        Assert.Equal(winner, (await _client.GetAsync($"/ProductTeam/{alias}")).Json()["id"]!.ToString());
    }
}

public sealed class SqliteConcurrencyTests(SqliteService service) : ConcurrencyTests(service), IClassFixture<SqliteService>;
