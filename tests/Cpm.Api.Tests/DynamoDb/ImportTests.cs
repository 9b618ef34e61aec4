using System.Net;
using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Cpm.Api.Tests.DynamoDb.RawRows;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>
/// An import leaves the rows live writes would have: the alias answers, a deleted team's alias is
/// free, the team delete guard sees the products, and the feed carries on from the last event.
/// </summary>
public sealed class ImportTests(DynamoDbService service) : IClassFixture<DynamoDbService>
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task AnImportedRegisterBehavesAsIfItsWritesHadBeenMadeHereAndASecondImportIsRefused()
    {
        var store = service.Services.GetRequiredService<ICpmStore>();
        var at = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var deletedAt = at.AddMinutes(1);
        var ods = Unique.OdsCode();
        var (liveAlias, goneAlias) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        var live = new ProductTeam(Guid.NewGuid().ToString(), "Live", ods, EntityStatus.Active, at, null, null, [new(ProductTeamKey.ProductTeamIdType, liveAlias)], 1);
        var gone = new ProductTeam(Guid.NewGuid().ToString(), "Gone", ods, EntityStatus.Inactive, at, deletedAt, deletedAt, [new(ProductTeamKey.ProductTeamIdType, goneAlias)], 2);
        var product = new Product("P.ABC-DEF", live.Id, liveAlias, "Imported", ods, EntityStatus.Active, at, null, null, 1);
        var context = new WriteContext(at, null, null, "apikey-0");
        ChangeEvent[] events = [ChangeEvent.TeamCreated(live, context), ChangeEvent.TeamCreated(gone, context), ChangeEvent.ProductCreated(product, context)];

        await store.ImportAsync([live, gone], [product], events, CancellationToken.None);

        Assert.Contains("products_version = N:1", Describe((await GetAsync(service.Dynamo, service.TableName, $"PT#{live.Id}", $"PT#{live.Id}"))!), StringComparison.Ordinal);
        Assert.Equal(live.Id, (await GetAsync(service.Dynamo, service.TableName, $"PT#{liveAlias}", $"PT#{liveAlias}"))!["id"].S);
        var tombstone = $"PT#{goneAlias}-{deletedAt.ToUnixTimeMilliseconds()}";
        Assert.Equal("inactive", (await GetAsync(service.Dynamo, service.TableName, tombstone, tombstone))!["status"].S);
        Assert.Equal("3", (await GetAsync(service.Dynamo, service.TableName, "EVENT_SEQUENCE", "EVENT_SEQUENCE"))!["last_seq"].N);
        Assert.Equal(["ProductCreated"], (await PartitionAsync(service.Dynamo, service.TableName, "HISTORY#product#P.ABC-DEF")).Select(row => row["type"].S));

        Assert.Equal(live.Id, (string)(await _client.GetAsync($"/ProductTeam/{liveAlias}")).Json()["id"]!);
        (await _client.DeleteAsync($"/ProductTeam/{live.Id}")).AssertError(HttpStatusCode.Conflict, "CONFLICT",
            "Product Team cannot be deleted as it still has associated Product Ids ['P.ABC-DEF']");
        (await _client.PostAsync("/ProductTeam", TeamBody(ods, liveAlias))).AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Item already exists");
        var newcomer = await _client.PostAsync("/ProductTeam", TeamBody(ods, goneAlias));
        newcomer.AssertStatus(HttpStatusCode.Created);
        var next = (await _client.GetAsync("/Events?after=3")).Json()["events"]!.AsArray();
        Assert.Equal((string)newcomer.Json()["id"]!, (string)next.Single()!["entity_id"]!);

        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => store.ImportAsync([live], [], [], CancellationToken.None));
        Assert.Equal("Import needs an empty store; this one already holds data.", again.Message);
    }

    private static string TeamBody(string ods, string alias) =>
        $$"""{"ods_code": "{{ods}}", "name": "Newcomer", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""";
}
