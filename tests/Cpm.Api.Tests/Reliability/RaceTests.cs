using System.Net;
using Cpm.Api.Tests.DynamoDb;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Reliability;

/// <summary>Concurrent requests for the same thing: exactly one wins, the others get the contract's answer, never a 5xx. Run against every storage adapter.</summary>
public abstract class RaceTests(CpmService service, ITestOutputHelper output)
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
        for (var round = 0; round < Rounds || ((productWon == 0 || deleteWon == 0) && round < 3 * Rounds); round++)
        {
            var seeded = await _client.CreateTeamAsync();
            var (teamId, ods) = ((string)seeded["id"]!, (string)seeded["ods_code"]!);

            // A create does more work before its write than a delete, so one side is held back a
            // little (0-2 ms) to exercise both orders and the overlap between them. Should either
            // order still be missing after the planned rounds, the side that keeps losing gets a
            // growing head start.
            var (createHoldBack, deleteHoldBack) = round < Rounds
                ? (TimeSpan.Zero, TimeSpan.FromMilliseconds(round % 3))
                : HeadStart(productWon == 0, TimeSpan.FromMilliseconds(5 * (round - Rounds + 1)));
            var create = Task.Run(async () =>
            {
                await Task.Delay(createHoldBack);
                return await _client.PostAsync($"/ProductTeam/{teamId}/Product", """{"name": "Racer"}""");
            });
            var delete = Task.Run(async () =>
            {
                await Task.Delay(deleteHoldBack);
                return await _client.DeleteAsync($"/ProductTeam/{teamId}");
            });
            var (created, deleted) = (await create, await delete);

            var team = await _client.GetAsync($"/ProductTeam/{teamId}");
            var organisation = await _client.GetAsync($"/Product?organisation_code={ods}");
            var stored = await StoredAsync(teamId);
            if (created.Status == HttpStatusCode.Created)
            {
                productWon++;
                var productId = (string)created.Json()["id"]!;
                deleted.AssertError(HttpStatusCode.Conflict, "CONFLICT",
                    $"Product Team cannot be deleted as it still has associated Product Ids ['{productId}']");
                team.AssertStatus(HttpStatusCode.OK);
                Assert.Equal(created.Body, (await _client.GetAsync($"/Product/{productId}")).Body);
                Assert.Equal(
                    $$"""{"results": [{"org_code": "{{ods}}", "product_teams": [{"product_team_id": {{created.Json()["product_team_id"]!.ToJsonString()}}, "cpm_product_team_id": "{{teamId}}", "products": [{{created.Body}}]}]}]}""",
                    organisation.Body);
                Assert.Equal($"team active; products: {productId} active", stored);
            }
            else
            {
                deleteWon++;
                created.AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{teamId}')");
                deleted.AssertStatus(HttpStatusCode.OK);
                team.AssertStatus(HttpStatusCode.NotFound);
                Assert.Equal("""{"results": []}""", organisation.Body);
                Assert.Equal("team inactive; products: none", stored);
            }
        }

        output.WriteLine($"product create against team delete: product first {productWon}, delete first {deleteWon}, both never");
        Assert.True(productWon > 0 && deleteWon > 0, $"both orders must occur: product first {productWon}, delete first {deleteWon}");
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

    [Fact]
    public async Task ConcurrentRestoresOfOneDeletedTeamGiveExactlyOne200AndTheRest409()
    {
        var teamId = (string)(await _client.CreateTeamAsync())["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.OK);

        var replies = await Task.WhenAll(Enumerable.Range(0, Racers).Select(_ => Task.Run(() => _client.PostAsync($"/ProductTeam/{teamId}/Restore", null))));

        var restored = Assert.Single(replies, reply => reply.Status == HttpStatusCode.OK);
        foreach (var reply in replies.Where(reply => reply != restored))
        {
            reply.AssertError(HttpStatusCode.Conflict, "CONFLICT", $"{teamId} is not deleted");
        }

        var history = (await _client.GetAsync($"/ProductTeam/{teamId}/History")).Json()["events"]!.AsArray();
        Assert.Equal(["ProductTeamCreated", "ProductTeamDeleted", "ProductTeamRestored"], history.Select(change => (string)change!["type"]!));
        Assert.Equal("W/\"3\"", (await _client.GetAsync($"/ProductTeam/{teamId}")).Header("ETag"));
    }

    [Fact]
    public async Task RestoreRacingANewTeamForTheFreedAliasNeverLeavesTwoLiveTeamsWithOneAlias()
    {
        const int rounds = Rounds / 2;
        var restoreWon = 0;
        var createWon = 0;
        for (var round = 0; round < rounds || ((restoreWon == 0 || createWon == 0) && round < 3 * rounds); round++)
        {
            var ods = Unique.OdsCode();
            var alias = Guid.NewGuid().ToString();
            var original = (string)(await _client.CreateTeamAsync(ods, alias: alias))["id"]!;
            (await _client.DeleteAsync($"/ProductTeam/{original}")).AssertStatus(HttpStatusCode.OK);

            // As in the create/delete race: the restore is held back 0-2 ms, then the losing side gets a head start.
            var (createHoldBack, restoreHoldBack) = round < rounds
                ? (TimeSpan.Zero, TimeSpan.FromMilliseconds(round % 3))
                : HeadStart(createWon == 0, TimeSpan.FromMilliseconds(5 * (round - rounds + 1)));
            var restore = Task.Run(async () =>
            {
                await Task.Delay(restoreHoldBack);
                return await _client.PostAsync($"/ProductTeam/{original}/Restore", null);
            });
            var create = Task.Run(async () =>
            {
                await Task.Delay(createHoldBack);
                return await _client.PostAsync("/ProductTeam",
                    $$"""{"ods_code": "{{ods}}", "name": "Usurper", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""");
            });
            var (restored, created) = (await restore, await create);

            var holder = await _client.GetAsync($"/ProductTeam/{alias}");
            var live = (await _client.GetAsync($"/ProductTeam?organisation_code={ods}")).Json()["results"]!.AsArray();
            Assert.Single(live);
            if (restored.Status == HttpStatusCode.OK)
            {
                restoreWon++;
                created.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Item already exists");
                Assert.Equal(original, (string)holder.Json()["id"]!);
            }
            else
            {
                createWon++;
                created.AssertStatus(HttpStatusCode.Created);
                restored.AssertError(HttpStatusCode.Conflict, "CONFLICT", $"Product team alias '{alias}' is now held by another live team");
                Assert.Equal((string)created.Json()["id"]!, (string)holder.Json()["id"]!);
            }
        }

        output.WriteLine($"restore against a new team for the freed alias: restore first {restoreWon}, create first {createWon}, both never");
        Assert.True(restoreWon > 0 && createWon > 0, $"both orders must occur: restore first {restoreWon}, create first {createWon}");
    }

    /// <summary>
    /// The team's row and its product rows as the adapter stored them, read past the API (which
    /// hides deleted teams), so an orphaned product would show: <c>team inactive; products: P.X active</c>.
    /// </summary>
    protected abstract Task<string> StoredAsync(string teamId);

    protected static string Describe(string? teamStatus, IEnumerable<(string Id, string Status)> products)
    {
        var listed = products.OrderBy(product => product.Id, StringComparer.Ordinal).Select(product => $"{product.Id} {product.Status}").ToList();
        return $"team {teamStatus ?? "missing"}; products: {(listed.Count == 0 ? "none" : string.Join(", ", listed))}";
    }

    /// <summary>Hold-backs that give the creating side (or else the other side) a head start.</summary>
    private static (TimeSpan Create, TimeSpan Other) HeadStart(bool toCreate, TimeSpan headStart) =>
        toCreate ? (TimeSpan.Zero, headStart) : (headStart, TimeSpan.Zero);
}

public sealed class SqliteRaceTests(SqliteService service, ITestOutputHelper output) : RaceTests(service, output), IClassFixture<SqliteService>
{
    protected override async Task<string> StoredAsync(string teamId)
    {
        await using var connection = new SqliteConnection($"Data Source={service.DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var query = connection.CreateCommand();
        query.CommandText = """
            SELECT t.status, p.id, p.status FROM product_teams t LEFT JOIN products p ON p.product_team_id = t.id
            WHERE t.id = $team
            """;
        query.Parameters.AddWithValue("$team", teamId);
        await using var rows = await query.ExecuteReaderAsync();
        string? status = null;
        var products = new List<(string, string)>();
        while (await rows.ReadAsync())
        {
            status = rows.GetString(0);
            if (!rows.IsDBNull(1))
            {
                products.Add((rows.GetString(1), rows.GetString(2)));
            }
        }

        return Describe(status, products);
    }
}

public sealed class DynamoDbRaceTests(DynamoDbService service, ITestOutputHelper output) : RaceTests(service, output), IClassFixture<DynamoDbService>
{
    protected override async Task<string> StoredAsync(string teamId)
    {
        var partition = await RawRows.PartitionAsync(service.Dynamo, service.TableName, $"PT#{teamId}");
        return Describe(
            partition.SingleOrDefault(row => row["sk"].S == $"PT#{teamId}")?["status"].S,
            partition.Where(row => row["sk"].S.StartsWith("P#", StringComparison.Ordinal)).Select(row => (row["id"].S, row["status"].S)));
    }
}
