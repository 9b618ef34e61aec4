using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md sections 5 and 6, run against every storage adapter.</summary>
public abstract class ProductTests(CpmService service)
{
    private const string Model = "CreateCpmProductIncomingParams";
    private const string SearchModel = "SearchProductQueryParams";
    private const string IdPattern = "^P\\.[ACDEFGHJKLMNPRTUVWXY34679]{3}-[ACDEFGHJKLMNPRTUVWXY34679]{3}$";

    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task CreatingProductReturnsItFieldForFieldWithTheTeamsAliasAndOdsCode()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;

        var reply = await _client.PostAsync($"/ProductTeam/{alias}/Product", """{"name": "My Product"}""");

        reply.AssertStatus(HttpStatusCode.Created);
        var json = reply.Json();
        var id = (string)json["id"]!;
        Assert.Matches(IdPattern, id);
        Assert.Equal(
            $$"""{"id": "{{id}}", "cpm_product_team_id": "{{team["id"]}}", "product_team_id": "{{alias}}", "name": "My Product", "ods_code": "{{team["ods_code"]}}", "status": "active", "created_on": "{{json["created_on"]}}", "updated_on": null, "deleted_on": null, "keys": []}""",
            reply.Body);
        Assert.Equal(reply.Body, (await _client.GetAsync($"/Product/{id}")).Body);
    }

    [Fact]
    public async Task BodyIsValidatedBeforeTheTeamIsLookedUp()
    {
        var reply = await _client.PostAsync("/ProductTeam/no-such-team/Product", """{"name": "", "colour": "red"}""");

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("VALIDATION_ERROR", $"{Model}.name: ensure this value has at least 1 characters"),
            ("VALIDATION_ERROR", $"{Model}.colour: extra fields not permitted"));
    }

    [Fact]
    public async Task MissingNameIsMissingValue()
    {
        var reply = await _client.PostAsync("/ProductTeam/no-such-team/Product", "{}");

        reply.AssertError(HttpStatusCode.BadRequest, "MISSING_VALUE", $"{Model}.name: field required");
    }

    [Theory]
    [InlineData("caf\u00e9")]
    [InlineData("tab\there")]
    [InlineData("emoji \ud83d\ude00")]
    public async Task ProductNamesMustBePrintableAscii(string name)
    {
        var team = await _client.CreateTeamAsync();

        var reply = await _client.PostAsync($"/ProductTeam/{team["id"]}/Product", $$"""{"name": {{Reply.PythonJson(name)}}}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{Model}.name: string does not match regex \"^[ -~]+$\"");
    }

    [Fact]
    public async Task ProductUnderUnknownOrDeletedTeamIsNotFound()
    {
        var team = await _client.CreateTeamAsync();
        (await _client.DeleteAsync($"/ProductTeam/{team["id"]}")).AssertStatus(HttpStatusCode.OK);

        (await _client.PostAsync($"/ProductTeam/{team["id"]}/Product", """{"name": "x"}"""))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{team["id"]}')");
        (await _client.PostAsync("/ProductTeam/nope/Product", """{"name": "x"}"""))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "Could not find ProductTeam for key ('nope')");
    }

    [Fact]
    public async Task ATeamDeletedAfterItsFirstProductTakesNoMoreUntilRestored()
    {
        var (team, _) = await _client.CreateTeamThatHadAProductAsync();
        var id = (string)team["id"]!;

        (await _client.PostAsync($"/ProductTeam/{id}/Product", """{"name": "x"}"""))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{id}')");

        (await _client.PostAsync($"/ProductTeam/{id}/Restore", null)).AssertStatus(HttpStatusCode.OK);
        var after = await _client.PostAsync($"/ProductTeam/{id}/Product", """{"name": "x"}""");
        after.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(team["keys"]![0]!["key_value"]!.ToString(), after.Json()["product_team_id"]!.ToString());
    }

    [Fact]
    public async Task AnAliasPassedToANewTeamTakesProductsIntoTheNewTeam()
    {
        var (team, _) = await _client.CreateTeamThatHadAProductAsync(byAlias: true);
        var alias = (string)team["keys"]![0]!["key_value"]!;
        var successor = await _client.CreateTeamAsync(alias: alias);

        var reply = await _client.PostAsync($"/ProductTeam/{alias}/Product", """{"name": "x"}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(successor["id"]!.ToString(), reply.Json()["cpm_product_team_id"]!.ToString());
    }

    [Fact]
    public async Task ProductIdsAreCaseSensitive()
    {
        var team = await _client.CreateTeamAsync();
        var id = (string)(await _client.CreateProductAsync((string)team["id"]!))["id"]!;

        (await _client.GetAsync($"/Product/{id.ToLowerInvariant()}"))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find CpmProduct for key ('{id.ToLowerInvariant()}')");
    }

    [Fact]
    public async Task DeletingProductThroughAliasHidesItButKeepsItsIdTaken()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;
        var id = (string)(await _client.CreateProductAsync(alias))["id"]!;

        var reply = await _client.DeleteAsync($"/ProductTeam/{alias}/Product/{id}");

        Assert.Equal($$"""{"code": "RESOURCE_DELETED", "message": "{{id}} has been deleted."}""", reply.Body);
        (await _client.GetAsync($"/Product/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find CpmProduct for key ('{id}')");
        (await _client.DeleteAsync($"/ProductTeam/{alias}/Product/{id}"))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find CpmProduct for key ('{team["id"]}', '{id}')");
    }

    [Fact]
    public async Task ProductCannotBeDeletedThroughAnotherTeam()
    {
        var owner = await _client.CreateTeamAsync();
        var other = await _client.CreateTeamAsync();
        var id = (string)(await _client.CreateProductAsync((string)owner["id"]!))["id"]!;

        (await _client.DeleteAsync($"/ProductTeam/{other["id"]}/Product/{id}"))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find CpmProduct for key ('{other["id"]}', '{id}')");
        (await _client.DeleteAsync($"/ProductTeam/missing/Product/{id}"))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "Could not find ProductTeam for key ('missing')");
        (await _client.GetAsync($"/Product/{id}")).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task SearchGroupsLiveProductsByOrganisationAndTeamInIdOrder()
    {
        var ods = Unique.OdsCode();
        var first = await _client.CreateTeamAsync(ods);
        var second = await _client.CreateTeamAsync(ods);
        await _client.CreateTeamAsync(ods); // without live products: must not appear
        var products = new List<System.Text.Json.Nodes.JsonObject>();
        foreach (var team in new[] { first, second, first, second, first })
        {
            products.Add(await _client.CreateProductAsync((string)team["id"]!));
        }

        (await _client.DeleteAsync($"/ProductTeam/{first["id"]}/Product/{products[4]["id"]}")).AssertStatus(HttpStatusCode.OK);
        var live = products.Take(4).ToList();

        var expectedTeams = new[] { first, second }
            .OrderBy(team => (string)team["id"]!, StringComparer.Ordinal)
            .Select(team =>
                $$"""{"product_team_id": "{{team["keys"]![0]!["key_value"]}}", "cpm_product_team_id": "{{team["id"]}}", "products": [{{string.Join(", ", live
                    .Where(p => (string)p["cpm_product_team_id"]! == (string)team["id"]!)
                    .OrderBy(p => (string)p["id"]!, StringComparer.Ordinal)
                    .Select(p => ToPythonJson(p)))}}]}""");
        var expected = $$"""{"results": [{"org_code": "{{ods}}", "product_teams": [{{string.Join(", ", expectedTeams)}}]}]}""";

        Assert.Equal(expected, (await _client.GetAsync($"/Product?organisation_code={ods}")).Body);
        var byTeam = await _client.GetAsync($"/Product?product_team_id={first["keys"]![0]!["key_value"]}");
        Assert.Contains($"\"cpm_product_team_id\": \"{first["id"]}\", \"products\"", byTeam.Body);
        Assert.DoesNotContain((string)second["id"]!, byTeam.Body);
    }

    [Fact]
    public async Task SearchForUnknownOrDeletedTeamIsEmpty()
    {
        var team = await _client.CreateTeamAsync();
        (await _client.DeleteAsync($"/ProductTeam/{team["id"]}")).AssertStatus(HttpStatusCode.OK);

        Assert.Equal("""{"results": []}""", (await _client.GetAsync($"/Product?product_team_id={team["id"]}")).Body);
        Assert.Equal("""{"results": []}""", (await _client.GetAsync("/Product?product_team_id=unknown")).Body);
        Assert.Equal("""{"results": []}""", (await _client.GetAsync("/Product?organisation_code=")).Body);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?product_team_id=a&organisation_code=b")]
    public async Task SearchNeedsExactlyOneParameter(string query)
    {
        var reply = await _client.GetAsync($"/Product{query}");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR",
            $"{SearchModel}.__root__: Please provide exactly one valid query parameter: ('product_team_id', 'organisation_code').");
    }

    [Fact]
    public async Task UnknownSearchParametersComeSortedBeforeTheRootRule()
    {
        var reply = await _client.GetAsync("/Product?zebra=1&Product_Team_Id=x&apple=2");

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("VALIDATION_ERROR", $"{SearchModel}.Product_Team_Id: extra fields not permitted"),
            ("VALIDATION_ERROR", $"{SearchModel}.apple: extra fields not permitted"),
            ("VALIDATION_ERROR", $"{SearchModel}.zebra: extra fields not permitted"),
            ("VALIDATION_ERROR", $"{SearchModel}.__root__: Please provide exactly one valid query parameter: ('product_team_id', 'organisation_code')."));
    }

    [Fact]
    public async Task ManyProductsGetDistinctValidIds()
    {
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
            ids.Add((string)(await _client.CreateProductAsync(team))["id"]!));

        Assert.Equal(1000, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches(IdPattern, id));
        var search = await _client.GetAsync($"/Product?product_team_id={team}");
        Assert.Equal(1000, search.Json()["results"]![0]!["product_teams"]![0]!["products"]!.AsArray().Count);
    }

    /// <summary>A product as the API serialises it (all its values are strings, nulls or the empty keys list).</summary>
    private static string ToPythonJson(System.Text.Json.Nodes.JsonObject product) =>
        "{" + string.Join(", ", product.Select(p => $"{Reply.PythonJson(p.Key)}: {(p.Value is null ? "null" : p.Value is System.Text.Json.Nodes.JsonArray ? "[]" : Reply.PythonJson((string)p.Value!))}")) + "}";
}

public sealed class SqliteProductTests(SqliteService service) : ProductTests(service), IClassFixture<SqliteService>;
