using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md section 4, run against every storage adapter.</summary>
public abstract class ProductTeamTests(CpmService service)
{
    private const string Model = "CreateProductTeamIncomingParams";
    private const string AliasPattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task CreatingTeamReturnsItFieldForFieldInContractOrder()
    {
        var ods = Unique.OdsCode();
        var alias = Guid.NewGuid().ToString();
        var reply = await _client.PostAsync("/ProductTeam",
            $$"""{"ods_code": "{{ods}}", "name": "My Team", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}", "ignored": 1}]}""");

        reply.AssertStatus(HttpStatusCode.Created);
        var json = reply.Json();
        var id = (string)json["id"]!;
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id);
        var createdOn = (string)json["created_on"]!;
        Assert.Equal(
            $$"""{"id": "{{id}}", "name": "My Team", "ods_code": "{{ods}}", "status": "active", "created_on": "{{createdOn}}", "updated_on": null, "deleted_on": null, "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""",
            reply.Body);
        Assert.Equal(reply.ByteCount.ToString(), reply.Header("Content-Length"));
        Assert.Equal("application/json", reply.Header("Content-Type"));
    }

    [Fact]
    public async Task TeamWithoutKeysHasEmptyKeysAndNoAlias()
    {
        var ods = Unique.OdsCode();
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "No Keys"}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.EndsWith("\"keys\": []}", reply.Body);
        var product = await _client.CreateProductAsync((string)reply.Json()["id"]!);
        Assert.Null(product["product_team_id"]);
    }

    [Fact]
    public async Task TeamIsReadableByIdAndByAliasWithTheSameBody()
    {
        var team = await _client.CreateTeamAsync();
        var byId = await _client.GetAsync($"/ProductTeam/{team["id"]}");
        var byAlias = await _client.GetAsync($"/ProductTeam/{team["keys"]![0]!["key_value"]}");

        byId.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(team.ToJsonString(), byId.Json().ToJsonString());
        Assert.Equal(byId.Body, byAlias.Body);
    }

    [Theory]
    [InlineData("does-not-exist")]
    [InlineData("808a36db-a52a-4130-b71e-d9cbcbaed15b")]
    [InlineData("caf\u00e9")]
    public async Task UnknownTeamIsNotFoundNamingThePathValue(string key)
    {
        var reply = await _client.GetAsync($"/ProductTeam/{Uri.EscapeDataString(key)}");

        reply.AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{key}')");
    }

    [Fact]
    public async Task MissingFieldsAreReportedTogetherAsMissingValue()
    {
        var reply = await _client.PostAsync("/ProductTeam", "{}");

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("MISSING_VALUE", $"{Model}.ods_code: field required"),
            ("MISSING_VALUE", $"{Model}.name: field required"));
    }

    [Fact]
    public async Task AbsentBodyCountsAsEmptyObject()
    {
        var reply = await _client.PostAsync("/ProductTeam", null);

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("MISSING_VALUE", $"{Model}.ods_code: field required"),
            ("MISSING_VALUE", $"{Model}.name: field required"));
    }

    [Fact]
    public async Task ErrorsComeInDeclarationOrderThenUnknownFieldsSortedThenRootRules()
    {
        var reply = await _client.PostAsync("/ProductTeam",
            """{"zeta": 1, "name": "  ", "ods_code": null, "keys": [{"key_type": "bad", "key_value": "x"}, 7, {"key_value": null}], "alpha": true}""");

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("VALIDATION_ERROR", $"{Model}.ods_code: none is not an allowed value"),
            ("VALIDATION_ERROR", $"{Model}.name: ensure this value has at least 1 characters"),
            ("VALIDATION_ERROR", $"{Model}.keys.0.key_type: value is not a valid enumeration member; permitted: 'product_team_id'"),
            ("VALIDATION_ERROR", $"{Model}.keys.1: value is not a valid dict"),
            ("MISSING_VALUE", $"{Model}.keys.2.key_type: field required"),
            ("VALIDATION_ERROR", $"{Model}.keys.2.key_value: none is not an allowed value"),
            ("VALIDATION_ERROR", $"{Model}.alpha: extra fields not permitted"),
            ("VALIDATION_ERROR", $"{Model}.zeta: extra fields not permitted"));
    }

    [Theory]
    [InlineData("""["a"]""", "str type expected")]
    [InlineData("""{"a": 1}""", "str type expected")]
    [InlineData("null", "none is not an allowed value")]
    public async Task NonStringNamesAreRefused(string name, string message)
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": {{name}}}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{Model}.name: {message}");
    }

    [Theory]
    [InlineData("123", "123")]
    [InlineData("true", "True")]
    [InlineData("false", "False")]
    [InlineData("1.5", "1.5")]
    [InlineData("1e3", "1000.0")]
    [InlineData("1e16", "1e+16")]
    [InlineData("-0.0001", "-0.0001")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    public async Task NumbersAndBooleansBecomePythonStrings(string literal, string expected)
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": {{literal}}}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(expected, (string)reply.Json()["name"]!);
    }

    [Theory]
    [InlineData(" leading")]
    [InlineData("trailing ")]
    [InlineData("double  space")]
    [InlineData("tab\there")]
    [InlineData("new\nline")]
    [InlineData("name\n")]
    public async Task NamesMustBeSingleSpacedWords(string name)
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": {{Reply.PythonJson(name)}}}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{Model}.name: string does not match regex \"^\\S+( \\S+)*$\"");
    }

    [Fact]
    public async Task NameRegexErrorIsReportedBeforeAnyOdsCall()
    {
        var ods = Unique.OdsCode();
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "a  b", "extra": 1}""");

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("VALIDATION_ERROR", $"{Model}.name: string does not match regex \"^\\S+( \\S+)*$\""),
            ("VALIDATION_ERROR", $"{Model}.extra: extra fields not permitted"));
        Assert.Equal(0, service.Ord.CallsFor(ods));
    }

    [Theory]
    [InlineData("\"x\"", "value is not a valid list")]
    [InlineData("{}", "value is not a valid list")]
    [InlineData("null", "none is not an allowed value")]
    public async Task KeysMustBeAList(string keys, string message)
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "n", "keys": {{keys}}}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{Model}.keys: {message}");
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("808a36db-a52a-4130-b71e-d9cbcbaed15")]
    [InlineData("808a36db-a52a-4130-b71e-d9cbcbaed15b\n")]
    public async Task AliasMustMatchTheKeyTypePattern(string alias)
    {
        var reply = await _client.PostAsync("/ProductTeam",
            $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "n", "keys": [{"key_type": "product_team_id", "key_value": {{Reply.PythonJson(alias)}}}]}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR",
            $"{Model}.keys.0.key_value: Key '{alias}' does not match the expected pattern '{AliasPattern}' associated with key type 'product_team_id'");
    }

    [Fact]
    public async Task AliasMayAppearOnlyOnce()
    {
        var alias = Guid.NewGuid().ToString();
        var key = $$"""{"key_type": "product_team_id", "key_value": "{{alias}}"}""";
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "n", "keys": [{{key}}, {{key}}]}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{Model}.keys: Ensure that product_team_id only exists once within keys.");
    }

    [Fact]
    public async Task AliasTakenByLiveTeamIsRefused()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;
        var reply = await _client.PostAsync("/ProductTeam",
            $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "n", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Item already exists");
    }

    [Fact]
    public async Task AliasEqualToAnyTeamIdIsRefusedEvenAfterThatTeamIsDeleted()
    {
        var team = await _client.CreateTeamAsync();
        var id = (string)team["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{id}")).AssertStatus(HttpStatusCode.OK);
        var reply = await _client.PostAsync("/ProductTeam",
            $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "n", "keys": [{"key_type": "product_team_id", "key_value": "{{id}}"}]}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Item already exists");
    }

    [Fact]
    public async Task DeletingTeamByAliasNamesItsOwnIdAndHidesIt()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;
        var reply = await _client.DeleteAsync($"/ProductTeam/{alias}");

        Assert.Equal($$"""{"code": "RESOURCE_DELETED", "message": "{{team["id"]}} has been deleted."}""", reply.Body);
        reply.AssertStatus(HttpStatusCode.OK);
        (await _client.GetAsync($"/ProductTeam/{team["id"]}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{team["id"]}')");
        (await _client.GetAsync($"/ProductTeam/{alias}")).AssertStatus(HttpStatusCode.NotFound);
        (await _client.DeleteAsync($"/ProductTeam/{team["id"]}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{team["id"]}')");
    }

    [Fact]
    public async Task DeletedTeamFreesItsAliasForANewTeam()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;
        (await _client.DeleteAsync($"/ProductTeam/{alias}")).AssertStatus(HttpStatusCode.OK);

        var successor = await _client.CreateTeamAsync(alias: alias);

        Assert.NotEqual(team["id"]!.ToString(), successor["id"]!.ToString());
        Assert.Equal(successor["id"]!.ToString(), (await _client.GetAsync($"/ProductTeam/{alias}")).Json()["id"]!.ToString());
    }

    [Fact]
    public async Task TeamWithLiveProductsCannotBeDeleted()
    {
        var team = await _client.CreateTeamAsync();
        var id = (string)team["id"]!;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((string)(await _client.CreateProductAsync(id))["id"]!);
        }

        (await _client.DeleteAsync($"/ProductTeam/{id}/Product/{ids[1]}")).AssertStatus(HttpStatusCode.OK);
        var live = ids.Where((_, i) => i != 1).Order(StringComparer.Ordinal).Select(p => $"'{p}'");

        var reply = await _client.DeleteAsync($"/ProductTeam/{id}");

        reply.AssertError(HttpStatusCode.Conflict, "CONFLICT", $"Product Team cannot be deleted as it still has associated Product Ids [{string.Join(", ", live)}]");
        (await _client.GetAsync($"/ProductTeam/{id}")).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeletedTeamLeavesTheOrganisationListing()
    {
        var team = await _client.CreateTeamAsync();
        (await _client.DeleteAsync($"/ProductTeam/{team["id"]}")).AssertStatus(HttpStatusCode.OK);

        var listed = await _client.GetAsync($"/ProductTeam?organisation_code={team["ods_code"]}");

        Assert.Equal("""{"results": []}""", listed.Body);
    }

    [Fact]
    public async Task ListingTeamsReturnsLiveTeamsOfTheOrganisationByIdIncludingTeamsWithoutProducts()
    {
        var ods = Unique.OdsCode();
        var teams = new[] { await _client.CreateTeamAsync(ods), await _client.CreateTeamAsync(ods), await _client.CreateTeamAsync(ods) };
        await _client.CreateTeamAsync();
        (await _client.DeleteAsync($"/ProductTeam/{teams[2]["id"]}")).AssertStatus(HttpStatusCode.OK);
        var expected = teams.Take(2).OrderBy(t => (string)t["id"]!, StringComparer.Ordinal).Select(t => t.ToJsonString());

        var reply = await _client.GetAsync($"/ProductTeam?organisation_code={ods}");

        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(expected, reply.Json()["results"]!.AsArray().Select(t => t!.ToJsonString()));
    }

    [Fact]
    public async Task ListingTeamsNeedsTheOrganisation()
    {
        var reply = await _client.GetAsync("/ProductTeam");

        reply.AssertError(HttpStatusCode.BadRequest, "MISSING_VALUE", "ListProductTeamsQueryParams.organisation_code: field required");
    }
}

public sealed class SqliteProductTeamTests(SqliteService service) : ProductTeamTests(service), IClassFixture<SqliteService>;
