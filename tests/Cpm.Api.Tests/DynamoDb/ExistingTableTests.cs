using System.Net;
using Amazon.DynamoDBv2.Model;
using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Cpm.Api.Tests.DynamoDb.RawRows;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>
/// A table as the existing service left it (docs/DYNAMODB.md: no version, id or event rows;
/// deleted rows with space-separated timestamps, deleted products with <c>keys: []</c>, an alias
/// freed by a tombstone and one left in place), put with the low-level client and served as it is.
/// </summary>
public sealed class ExistingTableTests : IClassFixture<DynamoDbService>, IAsyncLifetime
{
    private const string Ods = "LEGACY1";
    private const string OtherOds = "LEGACY2";
    private const string Created = "2025-01-30T14:30:18.191643+00:00";
    private const string CreatedWhole = "2025-01-31T08:00:00+00:00";
    private const string Deleted = "2025-02-03 09:00:00.123456+00:00";

    private const string TeamId = "5d5ba2b4-9a0f-4d76-9d6c-4c0a6c6b0a01";
    private const string TeamAlias = "0c8b0f4e-3f3a-4c43-9d21-8f3c2b9d7e11";
    private const string BareTeamId = "1f1d3e6a-2b2c-4d4e-8f8a-9b9c0d0e0f02";
    private const string DeletedTeamId = "8e2c6d1a-7b3f-4e5d-a6c7-d8e9f0a1b203";
    private const string DeletedTeamAlias = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d15";
    private const string InPlaceTeamId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c04";
    private const string InPlaceAlias = "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e17";
    private const string FreedTeamId = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d06";
    private const string FreedAlias = "d5e6f7a8-b9c0-4d1e-8f2a-3b4c5d6e7f19";
    private const string FreedInPlaceTeamId = "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e08";
    private const string FreedInPlaceAlias = "e6f7a8b9-c0d1-4e2f-9a3b-4c5d6e7f8a20";
    private const string RetiringTeamId = "4d5e6f7a-8b9c-4d0e-9f1a-3b4c5d6e7f09";
    private const string RetiringAlias = "f7a8b9c0-d1e2-4f3a-8b4c-5d6e7f8a9b21";
    private const string RetiringProduct = "P.RTU-VWX";
    private const long TombstoneEpochMs = 1738573200123;

    private const string Product1 = "P.ACD-EFG";
    private const string Product2 = "P.HJK-LMN";
    private const string DeletedProduct = "P.PRT-UVW";
    private const string BareProduct = "P.XY3-467";

    private readonly DynamoDbService _service;
    private readonly CpmClient _client;

    public ExistingTableTests(DynamoDbService service)
    {
        _service = service;
        _client = service.Client();
    }

    public async Task InitializeAsync()
    {
        if (await GetAsync(_service.Dynamo, _service.TableName, $"PT#{TeamId}", $"PT#{TeamId}") is not null)
        {
            return;
        }

        var rows = new List<Dictionary<string, AttributeValue>>
        {
            TeamRow(TeamId, "Legacy Team", Ods, TeamAlias, live: true),
            AliasRow($"PT#{TeamAlias}", TeamId, "Legacy Team", Ods, TeamAlias, live: true),
            ProductRow(Product2, TeamId, TeamAlias, "Second Product", Ods, live: true),
            ProductRow(Product1, TeamId, TeamAlias, "First Product", Ods, live: true),
            ProductRow(DeletedProduct, TeamId, TeamAlias, "Gone Product", Ods, live: false),
            TeamRow(BareTeamId, "Bare Team", Ods, null, live: true),
            ProductRow(BareProduct, BareTeamId, null, "Bare Product", Ods, live: true),
            TeamRow(DeletedTeamId, "Deleted Team", Ods, DeletedTeamAlias, live: false),
            AliasRow($"PT#{DeletedTeamAlias}-{TombstoneEpochMs}", DeletedTeamId, "Deleted Team", Ods, DeletedTeamAlias, live: false),
            TeamRow(InPlaceTeamId, "In Place Team", OtherOds, InPlaceAlias, live: false),
            AliasRow($"PT#{InPlaceAlias}", InPlaceTeamId, "In Place Team", OtherOds, InPlaceAlias, live: false),
            TeamRow(FreedTeamId, "Freed Team", OtherOds, FreedAlias, live: false),
            AliasRow($"PT#{FreedAlias}-{TombstoneEpochMs}", FreedTeamId, "Freed Team", OtherOds, FreedAlias, live: false),
            TeamRow(FreedInPlaceTeamId, "Freed In Place Team", OtherOds, FreedInPlaceAlias, live: false),
            AliasRow($"PT#{FreedInPlaceAlias}", FreedInPlaceTeamId, "Freed In Place Team", OtherOds, FreedInPlaceAlias, live: false),
            TeamRow(RetiringTeamId, "Retiring Team", OtherOds, RetiringAlias, live: true),
            AliasRow($"PT#{RetiringAlias}", RetiringTeamId, "Retiring Team", OtherOds, RetiringAlias, live: true),
            ProductRow(RetiringProduct, RetiringTeamId, RetiringAlias, "Retiring Product", OtherOds, live: true),
        };
        foreach (var row in rows)
        {
            await PutAsync(_service.Dynamo, _service.TableName, row);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task TeamIsServedByIdAndByAliasExactly()
    {
        var expected = $$"""{"id": "{{TeamId}}", "name": "Legacy Team", "ods_code": "{{Ods}}", "status": "active", "created_on": "{{Created}}", "updated_on": null, "deleted_on": null, "keys": [{"key_type": "product_team_id", "key_value": "{{TeamAlias}}"}]}""";

        var byId = await _client.GetAsync($"/ProductTeam/{TeamId}");
        var byAlias = await _client.GetAsync($"/ProductTeam/{TeamAlias}");

        byId.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(expected, byId.Body);
        Assert.Equal(expected, byAlias.Body);
    }

    [Fact]
    public async Task ProductIsServedExactlyAndDeletedProductIsNotFound()
    {
        var live = await _client.GetAsync($"/Product/{Product1}");
        var bare = await _client.GetAsync($"/Product/{BareProduct}");

        live.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(ProductJson(Product1, TeamId, TeamAlias, "First Product"), live.Body);
        Assert.Equal(ProductJson(BareProduct, BareTeamId, null, "Bare Product"), bare.Body);
        (await _client.GetAsync($"/Product/{DeletedProduct}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find CpmProduct for key ('{DeletedProduct}')");
        (await _client.GetAsync($"/Product/{Product1.ToLowerInvariant()}")).AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SearchByTeamIdOrAliasListsLiveProductsInIdOrder()
    {
        var expected = $$"""{"results": [{"org_code": "{{Ods}}", "product_teams": [{"product_team_id": "{{TeamAlias}}", "cpm_product_team_id": "{{TeamId}}", "products": [{{ProductJson(Product1, TeamId, TeamAlias, "First Product")}}, {{ProductJson(Product2, TeamId, TeamAlias, "Second Product")}}]}]}]}""";

        var byId = await _client.GetAsync($"/Product?product_team_id={TeamId}");
        var byAlias = await _client.GetAsync($"/Product?product_team_id={TeamAlias}");

        byId.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(expected, byId.Body);
        Assert.Equal(expected, byAlias.Body);
    }

    [Fact]
    public async Task SearchByOrganisationGroupsLiveProductsByTeamId()
    {
        var reply = await _client.GetAsync($"/Product?organisation_code={Ods}");

        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(
            $$"""{"results": [{"org_code": "{{Ods}}", "product_teams": [""" +
            $$"""{"product_team_id": null, "cpm_product_team_id": "{{BareTeamId}}", "products": [{{ProductJson(BareProduct, BareTeamId, null, "Bare Product")}}]}, """ +
            $$"""{"product_team_id": "{{TeamAlias}}", "cpm_product_team_id": "{{TeamId}}", "products": [{{ProductJson(Product1, TeamId, TeamAlias, "First Product")}}, {{ProductJson(Product2, TeamId, TeamAlias, "Second Product")}}]}]}]}""",
            reply.Body);
    }

    [Fact]
    public async Task ListingShowsOnlyLiveTeamsInIdOrder()
    {
        var reply = await _client.GetAsync($"/ProductTeam?organisation_code={Ods}");

        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(
            $$"""{"results": [{"id": "{{BareTeamId}}", "name": "Bare Team", "ods_code": "{{Ods}}", "status": "active", "created_on": "{{CreatedWhole}}", "updated_on": null, "deleted_on": null, "keys": []}, """ +
            $$"""{"id": "{{TeamId}}", "name": "Legacy Team", "ods_code": "{{Ods}}", "status": "active", "created_on": "{{Created}}", "updated_on": null, "deleted_on": null, "keys": [{"key_type": "product_team_id", "key_value": "{{TeamAlias}}"}]}]}""",
            reply.Body);
    }

    [Theory]
    [InlineData(DeletedTeamId)]
    [InlineData(DeletedTeamAlias)]
    [InlineData(InPlaceTeamId)]
    [InlineData(InPlaceAlias)]
    public async Task DeletedTeamsAreNotFoundByIdOrAlias(string key)
    {
        (await _client.GetAsync($"/ProductTeam/{key}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{key}')");
        Assert.Equal("""{"results": []}""", (await _client.GetAsync($"/Product?product_team_id={key}")).Body);
        (await _client.PostAsync($"/ProductTeam/{key}/Product", """{"name": "x"}""")).AssertStatus(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData(FreedAlias)]
    [InlineData(FreedInPlaceAlias)]
    public async Task AliasOfADeletedTeamMayBeTakenAgainEitherWayItWasFreed(string alias)
    {
        var successor = await _client.CreateTeamAsync(alias: alias);

        Assert.Equal(successor.ToJsonString(), (await _client.GetAsync($"/ProductTeam/{alias}")).Json().ToJsonString());
    }

    [Theory]
    [InlineData(TeamId)]
    [InlineData(DeletedTeamId)]
    [InlineData(TeamAlias)]
    public async Task IdsAndLiveAliasesOfExistingTeamsCannotBecomeAliases(string alias)
    {
        var reply = await _client.PostAsync("/ProductTeam",
            $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "n", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Item already exists");
    }

    [Fact]
    public async Task ExistingTeamWithLiveProductsCannotBeDeleted()
    {
        var reply = await _client.DeleteAsync($"/ProductTeam/{TeamAlias}");

        reply.AssertError(HttpStatusCode.Conflict, "CONFLICT", $"Product Team cannot be deleted as it still has associated Product Ids ['{Product1}', '{Product2}']");
    }

    [Fact]
    public async Task ExistingProductAndTeamAreDeletedInTheExistingServiceShapeAndFreeTheAlias()
    {
        (await _client.DeleteAsync($"/ProductTeam/{RetiringAlias}/Product/{RetiringProduct}")).AssertStatus(HttpStatusCode.OK);
        (await _client.DeleteAsync($"/ProductTeam/{RetiringAlias}")).AssertStatus(HttpStatusCode.OK);

        var product = (await GetAsync(_service.Dynamo, _service.TableName, $"PT#{RetiringTeamId}", $"P#{RetiringProduct}"))!;
        Assert.Equal(("inactive", "L[]", "N:2"), (product["status"].S, Describe(product["keys"]), Describe(product["version"])));
        Assert.Equal(product["updated_on"].S, product["deleted_on"].S);
        var team = (await GetAsync(_service.Dynamo, _service.TableName, $"PT#{RetiringTeamId}", $"PT#{RetiringTeamId}"))!;
        Assert.Equal(("inactive", "N:2"), (team["status"].S, Describe(team["version"])));
        Assert.Null(await GetAsync(_service.Dynamo, _service.TableName, $"PT#{RetiringAlias}", $"PT#{RetiringAlias}"));
        var epochMs = DateTimeOffset.Parse(team["deleted_on"].S, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        var tombstone = (await GetAsync(_service.Dynamo, _service.TableName, $"PT#{RetiringAlias}-{epochMs}", $"PT#{RetiringAlias}-{epochMs}"))!;
        Assert.Equal(("inactive", RetiringTeamId, "product_team_alias"), (tombstone["status"].S, tombstone["id"].S, tombstone["row_type"].S));
        (await _client.GetAsync($"/ProductTeam/{RetiringAlias}")).AssertStatus(HttpStatusCode.NotFound);
        Assert.Equal("""{"results": []}""", (await _client.GetAsync($"/ProductTeam?organisation_code={OtherOds}")).Body);
        await _client.CreateTeamAsync(alias: RetiringAlias);
    }

    [Theory]
    [InlineData(Product1)]
    [InlineData(DeletedProduct)]
    public async Task ProductIdsTheExistingServiceIssuedAreNeverIssuedAgain(string id)
    {
        // Ids are random, so this goes to the store directly with an id the existing service used.
        var store = _service.Services.GetRequiredService<ICpmStore>();
        var clash = new Product(id, BareTeamId, null, "Clash", Ods, EntityStatus.Active, DateTimeOffset.UtcNow, null, null, 1);

        var outcome = await store.CreateProductAsync(clash, new WriteContext(DateTimeOffset.UtcNow, null, null, "test"), CancellationToken.None);

        Assert.Equal(ProductCreation.ProductIdTaken, outcome);
        Assert.Equal(ProductJson(BareProduct, BareTeamId, null, "Bare Product"), (await _client.GetAsync($"/Product/{BareProduct}")).Body);
    }

    private static string ProductJson(string id, string teamId, string? alias, string name) =>
        $$"""{"id": "{{id}}", "cpm_product_team_id": "{{teamId}}", "product_team_id": {{(alias is null ? "null" : $"\"{alias}\"")}}, "name": "{{name}}", "ods_code": "{{Ods}}", "status": "active", "created_on": "{{Created}}", "updated_on": null, "deleted_on": null, "keys": []}""";

    private static Dictionary<string, AttributeValue> TeamRow(string id, string name, string ods, string? alias, bool live)
    {
        var key = $"PT#{id}";
        var row = Fields(id, name, ods, alias, live, alias is null && live ? CreatedWhole : Created);
        row["pk"] = S(key);
        row["sk"] = S(key);
        row["pk_read_1"] = S(key);
        row["sk_read_1"] = S(key);
        row["pk_read_2"] = S($"ORG#{ods}");
        row["sk_read_2"] = S(key);
        row["root"] = Bool(true);
        row["row_type"] = S("product_team");
        return row;
    }

    private static Dictionary<string, AttributeValue> AliasRow(string key, string id, string name, string ods, string alias, bool live)
    {
        var row = Fields(id, name, ods, alias, live, Created);
        row["pk"] = S(key);
        row["sk"] = S(key);
        row["pk_read_1"] = S(key);
        row["sk_read_1"] = S(key);
        row["root"] = Bool(false);
        row["row_type"] = S("product_team_alias");
        return row;
    }

    private static Dictionary<string, AttributeValue> Fields(string id, string name, string ods, string? alias, bool live, string created) => new()
    {
        ["id"] = S(id),
        ["name"] = S(name),
        ["ods_code"] = S(ods),
        ["status"] = S(live ? "active" : "inactive"),
        ["created_on"] = S(live ? created : Deleted),
        ["updated_on"] = live ? Null() : S(Deleted),
        ["deleted_on"] = live ? Null() : S(Deleted),
        ["keys"] = alias is null ? List() : List(Map(("key_type", S("product_team_id")), ("key_value", S(alias)))),
    };

    /// <summary>Live products carry no keys attribute; the existing service added <c>keys: []</c> when it deleted one.</summary>
    private static Dictionary<string, AttributeValue> ProductRow(string id, string teamId, string? alias, string name, string ods, bool live)
    {
        var row = new Dictionary<string, AttributeValue>
        {
            ["pk"] = S($"PT#{teamId}"),
            ["sk"] = S($"P#{id}"),
            ["pk_read_1"] = S($"P#{id}"),
            ["sk_read_1"] = S($"P#{id}"),
            ["pk_read_2"] = S($"ORG#{ods}"),
            ["sk_read_2"] = S($"P#{id}"),
            ["root"] = Bool(true),
            ["row_type"] = S("product"),
            ["id"] = S(id),
            ["cpm_product_team_id"] = S(teamId),
            ["product_team_id"] = SOrNull(alias),
            ["name"] = S(name),
            ["ods_code"] = S(ods),
            ["status"] = S(live ? "active" : "inactive"),
            ["created_on"] = S(live ? Created : Deleted),
            ["updated_on"] = live ? Null() : S(Deleted),
            ["deleted_on"] = live ? Null() : S(Deleted),
        };
        if (!live)
        {
            row["keys"] = List();
        }

        return row;
    }
}
