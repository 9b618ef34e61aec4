using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md sections 11, 14 and 15: paging, idempotent POSTs, scoped callers.</summary>
public abstract class CallerTests(CpmService service)
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task TeamListingPagesInIdOrderWithAnOpaqueCursor()
    {
        var ods = Unique.OdsCode();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((string)(await _client.CreateTeamAsync(ods))["id"]!);
        }

        ids.Sort(StringComparer.Ordinal);
        var first = (await _client.GetAsync($"/ProductTeam?organisation_code={ods}&limit=2")).Json();
        var second = (await _client.GetAsync($"/ProductTeam?organisation_code={ods}&limit=2&cursor={first["next_cursor"]}")).Json();
        var last = await _client.GetAsync($"/ProductTeam?organisation_code={ods}&limit=2&cursor={second["next_cursor"]}");

        Assert.Equal(ids[..2], first["results"]!.AsArray().Select(t => (string)t!["id"]!));
        Assert.Equal(ids[2..4], second["results"]!.AsArray().Select(t => (string)t!["id"]!));
        Assert.Equal(ids[4..], last.Json()["results"]!.AsArray().Select(t => (string)t!["id"]!));
        Assert.EndsWith("], \"next_cursor\": null}", last.Body);
        Assert.DoesNotContain("next_cursor", (await _client.GetAsync($"/ProductTeam?organisation_code={ods}")).Body);
    }

    [Theory]
    [InlineData("&limit=0", "ListProductTeamsQueryParams.limit: ensure this value is greater than or equal to 1")]
    [InlineData("&limit=1001", "ListProductTeamsQueryParams.limit: ensure this value is less than or equal to 1000")]
    [InlineData("&limit=ten", "ListProductTeamsQueryParams.limit: value is not a valid integer")]
    [InlineData("&limit=5&cursor=forged", "ListProductTeamsQueryParams.cursor: invalid cursor")]
    [InlineData("&cursor=forged", "ListProductTeamsQueryParams.cursor: invalid cursor")]
    public async Task BadPagingParametersAreRefused(string query, string message)
    {
        var reply = await _client.GetAsync($"/ProductTeam?organisation_code=X{query}");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.StartsWith($$"""{"errors": [{"code": "VALIDATION_ERROR", "message": {{Reply.PythonJson(message)}}}""", reply.Body);
    }

    [Fact]
    public async Task CursorWithoutLimitAndCursorsFromAnotherQueryAreRefused()
    {
        var ods = Unique.OdsCode();
        await _client.CreateTeamAsync(ods);
        await _client.CreateTeamAsync(ods);
        var cursor = (string)(await _client.GetAsync($"/ProductTeam?organisation_code={ods}&limit=1")).Json()["next_cursor"]!;

        (await _client.GetAsync($"/ProductTeam?organisation_code={ods}&cursor={cursor}"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "ListProductTeamsQueryParams.__root__: cursor requires limit");
        (await _client.GetAsync($"/ProductTeam?organisation_code=OTHER&limit=1&cursor={cursor}"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "ListProductTeamsQueryParams.cursor: invalid cursor");
        (await _client.GetAsync($"/Product?organisation_code={ods}&limit=1&cursor={cursor}"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "SearchProductQueryParams.cursor: invalid cursor");
    }

    [Fact]
    public async Task SearchPagesCountProductsAndKeepTheNestedShape()
    {
        var ods = Unique.OdsCode();
        var teams = new[] { (string)(await _client.CreateTeamAsync(ods))["id"]!, (string)(await _client.CreateTeamAsync(ods))["id"]! };
        var products = new List<(string Team, string Id)>();
        foreach (var team in teams)
        {
            for (var i = 0; i < 3; i++)
            {
                products.Add((team, (string)(await _client.CreateProductAsync(team))["id"]!));
            }
        }

        var expected = products.OrderBy(p => p.Team, StringComparer.Ordinal).ThenBy(p => p.Id, StringComparer.Ordinal).Select(p => p.Id).ToList();
        var walked = new List<string>();
        string? cursor = null;
        do
        {
            var page = (await _client.GetAsync($"/Product?organisation_code={ods}&limit=4{(cursor is null ? "" : $"&cursor={cursor}")}")).Json();
            foreach (var organisation in page["results"]!.AsArray())
            {
                Assert.Equal(ods, (string)organisation!["org_code"]!);
                walked.AddRange(organisation["product_teams"]!.AsArray().SelectMany(t => t!["products"]!.AsArray()).Select(p => (string)p!["id"]!));
            }

            cursor = (string?)page["next_cursor"];
        }
        while (cursor is not null);

        Assert.Equal(expected, walked);
    }

    /// <summary>
    /// A search by alias pages through the team the alias names now. A cursor taken while the alias
    /// named an earlier team keeps its place in the walk's order: if that team sorts before the
    /// alias's new team, the new team's products are all still to come; if after, they were passed.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ACursorFromBeforeAnAliasMovedKeepsItsPlaceInTheWalk(bool earlierTeamSortsFirst)
    {
        var ods = Unique.OdsCode();
        var alias = Guid.NewGuid().ToString();
        var earlier = (string)(await _client.CreateTeamAsync(ods, alias: alias))["id"]!;
        var earlierProducts = new[] { (string)(await _client.CreateProductAsync(earlier))["id"]!, (string)(await _client.CreateProductAsync(earlier))["id"]! };
        var cursor = (string)(await _client.GetAsync($"/Product?product_team_id={alias}&limit=1")).Json()["next_cursor"]!;
        foreach (var product in earlierProducts)
        {
            (await _client.DeleteAsync($"/ProductTeam/{earlier}/Product/{product}")).AssertStatus(HttpStatusCode.OK);
        }

        (await _client.DeleteAsync($"/ProductTeam/{earlier}")).AssertStatus(HttpStatusCode.OK);
        var current = await MoveAliasToANewTeamAsync(ods, alias, id => string.CompareOrdinal(earlier, id) < 0 == earlierTeamSortsFirst);
        var currentProducts = new[] { (string)(await _client.CreateProductAsync(current))["id"]!, (string)(await _client.CreateProductAsync(current))["id"]! };

        var page = (await _client.GetAsync($"/Product?product_team_id={alias}&limit=5&cursor={cursor}")).Json();

        var found = page["results"]!.AsArray().SelectMany(o => o!["product_teams"]!.AsArray()).SelectMany(t => t!["products"]!.AsArray()).Select(p => (string)p!["id"]!);
        Assert.Equal(earlierTeamSortsFirst ? currentProducts.Order(StringComparer.Ordinal) : [], found);
        Assert.Null((string?)page["next_cursor"]);
    }

    /// <summary>Gives <paramref name="alias"/> to a new team of <paramref name="ods"/> whose id <paramref name="wanted"/> accepts (ids are random: each try has an even chance).</summary>
    private async Task<string> MoveAliasToANewTeamAsync(string ods, string alias, Func<string, bool> wanted)
    {
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var id = (string)(await _client.CreateTeamAsync(ods, alias: alias))["id"]!;
            if (wanted(id))
            {
                return id;
            }

            (await _client.DeleteAsync($"/ProductTeam/{id}")).AssertStatus(HttpStatusCode.OK);
        }

        throw new InvalidOperationException("40 new team ids all fell on the wrong side");
    }

    [Fact]
    public async Task ConcurrentRetriesOfOnePostCreateOneProductAndAllGetTheSameAnswer()
    {
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        var requestId = Guid.NewGuid().ToString();

        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            _client.PostAsync($"/ProductTeam/{team}/Product", """{"name": "Once"}""", ("X-Request-Id", requestId))));

        Assert.All(replies, reply => reply.AssertStatus(HttpStatusCode.Created));
        Assert.Single(replies.Select(reply => reply.Body).Distinct());
        var search = (await _client.GetAsync($"/Product?product_team_id={team}")).Json();
        Assert.Single(search["results"]![0]!["product_teams"]![0]!["products"]!.AsArray());
    }

    [Fact]
    public async Task ARepeatedPostReplaysItsAnswerAndADifferentBodyIsRefused()
    {
        var ods = Unique.OdsCode();
        var requestId = Guid.NewGuid().ToString();
        var first = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Idem"}""", ("X-Request-Id", requestId));

        var again = await _client.PostAsync("/ProductTeam", $$"""{"name": "Idem",  "ods_code": "{{ods}}"}""", ("X-Request-Id", requestId));
        var different = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Other"}""", ("X-Request-Id", requestId));
        var otherCaller = await service.Client(CpmService.SecondApiKey).PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Idem"}""", ("X-Request-Id", requestId));

        first.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(first.Body, again.Body);
        Assert.Equal(HttpStatusCode.Created, again.Status);
        Assert.Equal(first.Header("ETag"), again.Header("ETag"));
        different.AssertError(HttpStatusCode.UnprocessableEntity, "UNPROCESSABLE_ENTITY", $"X-Request-Id '{requestId}' was already used for a different request");
        otherCaller.AssertStatus(HttpStatusCode.Created);
        Assert.NotEqual(first.Json()["id"]!.ToString(), otherCaller.Json()["id"]!.ToString());
        Assert.Equal(2, (await _client.GetAsync($"/ProductTeam?organisation_code={ods}")).Json()["results"]!.AsArray().Count);
    }

    [Fact]
    public async Task ErrorAnswersAreNotRememberedSoTheCallerMayRetry()
    {
        var ods = Unique.OdsCode();
        var requestId = Guid.NewGuid().ToString();
        service.Ord.Set(ods, OrdBehaviour.Unknown);
        (await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Later"}""", ("X-Request-Id", requestId))).AssertStatus(HttpStatusCode.UnprocessableEntity);
        service.Ord.Set(ods, OrdBehaviour.Known);

        (await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Later"}""", ("X-Request-Id", requestId))).AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task AReadOnlyCallerCannotWriteButCanRead()
    {
        var reader = service.Client(CpmService.ReaderKey);
        var team = await _client.CreateTeamAsync();

        (await reader.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "No"}"""))
            .AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Caller 'reporting' lacks the 'write' scope");
        (await reader.DeleteAsync($"/ProductTeam/{team["id"]}")).AssertStatus(HttpStatusCode.Forbidden);
        (await reader.GetAsync($"/ProductTeam/{team["id"]}")).AssertStatus(HttpStatusCode.OK);
        (await reader.GetAsync("/Events?limit=1")).AssertStatus(HttpStatusCode.OK);
        (await reader.GetAsync("/Export")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Caller 'reporting' lacks the 'admin' scope");
    }

    [Fact]
    public async Task ScopeIsCheckedAfterTheVersionHeaderAndBeforeValidation()
    {
        var reader = service.Client(CpmService.ReaderKey, version: null);

        (await reader.PostAsync("/ProductTeam", "{")).AssertError(HttpStatusCode.BadRequest, "MISSING_VALUE", "Event.headers.version: field required");
        (await service.Client(CpmService.ReaderKey).PostAsync("/ProductTeam", "{")).AssertStatus(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AnOrganisationLimitedCallerCannotTouchAnotherOrganisationsTeam()
    {
        var limited = service.Client(CpmService.LimitedWriterKey);
        var foreign = await _client.CreateTeamAsync();
        var foreignOds = (string)foreign["ods_code"]!;

        (await limited.PostAsync("/ProductTeam", $$"""{"ods_code": "{{foreignOds}}", "name": "No"}"""))
            .AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", $"Caller 'limited-writer' may not write to organisation '{foreignOds}'");
        (await limited.PostAsync($"/ProductTeam/{foreign["id"]}/Product", """{"name": "No"}""")).AssertStatus(HttpStatusCode.Forbidden);
        (await limited.DeleteAsync($"/ProductTeam/{foreign["id"]}")).AssertStatus(HttpStatusCode.Forbidden);
        (await limited.GetAsync($"/ProductTeam/{foreign["id"]}")).AssertStatus(HttpStatusCode.OK);

        var own = await limited.PostAsync("/ProductTeam", $$"""{"ods_code": "{{CpmService.LimitedWriterOrganisation}}", "name": "Mine"}""");
        own.AssertStatus(HttpStatusCode.Created);
        await limited.CreateProductAsync((string)own.Json()["id"]!);
        var history = (await _client.GetAsync($"/ProductTeam/{own.Json()["id"]}/History")).Json();
        Assert.Equal("limited-writer", (string)history["events"]![0]!["actor"]!);
    }

    [Fact]
    public async Task AnotherOrganisationsTeamDeletedAfterItsFirstProductIsNotFoundForALimitedCaller()
    {
        var limited = service.Client(CpmService.LimitedWriterKey);
        var team = (string)(await _client.CreateTeamThatHadAProductAsync()).Team["id"]!;

        (await limited.PostAsync($"/ProductTeam/{team}/Product", """{"name": "No"}"""))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{team}')");
    }

    [Fact]
    public async Task AnOrganisationLimitedCallerCannotRenameOrRestoreAnotherOrganisationsTeamNorRenameDeleteOrRestoreItsProducts()
    {
        var limited = service.Client(CpmService.LimitedWriterKey);
        var foreign = await _client.CreateTeamAsync();
        var (team, ods) = ((string)foreign["id"]!, (string)foreign["ods_code"]!);
        var product = (string)(await _client.CreateProductAsync(team))["id"]!;
        var deletedProduct = (string)(await _client.CreateProductAsync(team))["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{team}/Product/{deletedProduct}")).AssertStatus(HttpStatusCode.OK);
        var deletedTeam = (string)(await _client.CreateTeamAsync(ods))["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{deletedTeam}")).AssertStatus(HttpStatusCode.OK);
        string[] reads = [$"/ProductTeam/{team}", $"/ProductTeam/{deletedTeam}?include_deleted=true", $"/Product/{product}", $"/Product/{deletedProduct}?include_deleted=true"];
        var before = await ReadAllAsync(reads);

        var refused = new[]
        {
            await limited.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team}", """{"name": "Taken Over"}""", ("If-Match", "*")),
            await limited.PostAsync($"/ProductTeam/{deletedTeam}/Restore", null),
            await limited.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team}/Product/{product}", """{"name": "Taken Over"}""", ("If-Match", "*")),
            await limited.DeleteAsync($"/ProductTeam/{team}/Product/{product}"),
            await limited.PostAsync($"/ProductTeam/{team}/Product/{deletedProduct}/Restore", null),
        };

        Assert.All(refused, reply => reply.AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", $"Caller 'limited-writer' may not write to organisation '{ods}'"));
        Assert.Equal(before, await ReadAllAsync(reads));

        // The same writes on its own organisation succeed, so the refusals above are the organisation's.
        var own = (string)(await limited.CreateTeamAsync(CpmService.LimitedWriterOrganisation))["id"]!;
        var ownProduct = (string)(await limited.CreateProductAsync(own))["id"]!;
        (await limited.SendAsync(HttpMethod.Patch, $"/ProductTeam/{own}", """{"name": "Renamed Own"}""", ("If-Match", "*"))).AssertStatus(HttpStatusCode.OK);
        (await limited.SendAsync(HttpMethod.Patch, $"/ProductTeam/{own}/Product/{ownProduct}", """{"name": "Renamed Own"}""", ("If-Match", "*"))).AssertStatus(HttpStatusCode.OK);
        (await limited.DeleteAsync($"/ProductTeam/{own}/Product/{ownProduct}")).AssertStatus(HttpStatusCode.OK);
        (await limited.PostAsync($"/ProductTeam/{own}/Product/{ownProduct}/Restore", null)).AssertStatus(HttpStatusCode.OK);
        (await limited.DeleteAsync($"/ProductTeam/{own}/Product/{ownProduct}")).AssertStatus(HttpStatusCode.OK);
        (await limited.DeleteAsync($"/ProductTeam/{own}")).AssertStatus(HttpStatusCode.OK);
        (await limited.PostAsync($"/ProductTeam/{own}/Restore", null)).AssertStatus(HttpStatusCode.OK);
    }

    private async Task<List<string>> ReadAllAsync(IEnumerable<string> paths)
    {
        var bodies = new List<string>();
        foreach (var path in paths)
        {
            var reply = await _client.GetAsync(path);
            reply.AssertStatus(HttpStatusCode.OK);
            bodies.Add($"{reply.Header("ETag")} {reply.Body}");
        }

        return bodies;
    }
}

public sealed class SqliteCallerTests(SqliteService service) : CallerTests(service), IClassFixture<SqliteService>;
