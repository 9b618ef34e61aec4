using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md sections 9, 10 and 12: versions and ETags, PATCH, restore, include_deleted, history and the change feed.</summary>
public abstract class ChangeTests(CpmService service)
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task CreateAndReadSendTheVersionAsAWeakETag()
    {
        var created = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "Tagged"}""");
        var id = (string)created.Json()["id"]!;
        var product = await _client.PostAsync($"/ProductTeam/{id}/Product", """{"name": "Tagged"}""");

        Assert.Equal("W/\"1\"", created.Header("ETag"));
        Assert.Equal("W/\"1\"", (await _client.GetAsync($"/ProductTeam/{id}")).Header("ETag"));
        Assert.Equal("W/\"1\"", product.Header("ETag"));
        Assert.Equal("W/\"1\"", (await _client.GetAsync($"/Product/{product.Json()["id"]}")).Header("ETag"));
    }

    [Fact]
    public async Task RenamingATeamNeedsIfMatchAndBumpsTheVersion()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;

        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{alias}", """{"name": "Renamed"}"""))
            .AssertError((HttpStatusCode)428, "PRECONDITION_REQUIRED", "If-Match header is required");
        var stale = await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{alias}", """{"name": "Renamed"}""", ("If-Match", "W/\"7\""));
        stale.AssertError(HttpStatusCode.PreconditionFailed, "PRECONDITION_FAILED", "If-Match does not match the current version");
        Assert.Equal("W/\"1\"", stale.Header("ETag"));

        var renamed = await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{alias}", """{"name": "Renamed"}""", ("If-Match", "W/\"1\""));

        renamed.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("W/\"2\"", renamed.Header("ETag"));
        Assert.Equal("Renamed", (string)renamed.Json()["name"]!);
        Assert.NotNull(renamed.Json()["updated_on"]);
        Assert.Equal(renamed.Body, (await _client.GetAsync($"/ProductTeam/{team["id"]}")).Body);
    }

    [Theory]
    [InlineData("\"1\"")]
    [InlineData("*")]
    [InlineData("W/\"9\", W/\"1\"")]
    public async Task IfMatchComparesWeaklyAndAcceptsAnyTag(string ifMatch)
    {
        var team = await _client.CreateTeamAsync();

        var reply = await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team["id"]}", """{"name": "Other"}""", ("If-Match", ifMatch));

        reply.AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RenamingToTheSameNameChangesNothing()
    {
        var team = await _client.CreateTeamAsync(name: "Same");

        var reply = await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team["id"]}", """{"name": "Same"}""", ("If-Match", "W/\"1\""));

        reply.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("W/\"1\"", reply.Header("ETag"));
        Assert.Equal(team.ToJsonString(), reply.Json().ToJsonString());
        Assert.Single((await _client.GetAsync($"/ProductTeam/{team["id"]}/History")).Json()["events"]!.AsArray());
    }

    [Fact]
    public async Task PatchBodiesAreValidatedBeforeExistenceAndForbidOtherFields()
    {
        var reply = await _client.SendAsync(HttpMethod.Patch, "/ProductTeam/missing", """{"ods_code": "X", "keys": []}""");

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("MISSING_VALUE", "UpdateProductTeamIncomingParams.name: field required"),
            ("VALIDATION_ERROR", "UpdateProductTeamIncomingParams.keys: extra fields not permitted"),
            ("VALIDATION_ERROR", "UpdateProductTeamIncomingParams.ods_code: extra fields not permitted"));
        (await _client.SendAsync(HttpMethod.Patch, "/ProductTeam/missing/Product/P.AAA-AAA", """{"name": "caf\u00e9"}"""))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "UpdateCpmProductIncomingParams.name: string does not match regex \"^[ -~]+$\"");
        (await _client.SendAsync(HttpMethod.Patch, "/ProductTeam/missing", """{"name": "Fine"}""", ("If-Match", "*")))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "Could not find ProductTeam for key ('missing')");
    }

    [Fact]
    public async Task RenamingAProductKeepsItsIdAndDeletedOnesAreNotFoundWhateverIfMatchSays()
    {
        var team = await _client.CreateTeamAsync();
        var id = (string)team["id"]!;
        var product = (string)(await _client.CreateProductAsync(id))["id"]!;

        var renamed = await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{id}/Product/{product}", """{"name": "New Name"}""", ("If-Match", "W/\"1\""));
        renamed.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(product, (string)renamed.Json()["id"]!);
        Assert.Equal("W/\"2\"", renamed.Header("ETag"));
        Assert.Contains("\"name\": \"New Name\"", (await _client.GetAsync($"/Product/{product}")).Body);

        (await _client.DeleteAsync($"/ProductTeam/{id}/Product/{product}")).AssertStatus(HttpStatusCode.OK);
        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{id}/Product/{product}", """{"name": "Again"}""", ("If-Match", "*")))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find CpmProduct for key ('{id}', '{product}')");
    }

    [Theory]
    [InlineData("organisation_code")]
    [InlineData("product_team_id")]
    public async Task SearchesShowEachProductAsItsOwnReadDoesAfterARename(string parameter)
    {
        var ods = Unique.OdsCode();
        var team = await _client.CreateTeamAsync(ods);
        var id = (string)team["id"]!;
        var products = new[] { (string)(await _client.CreateProductAsync(id))["id"]!, (string)(await _client.CreateProductAsync(id))["id"]! };
        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{id}/Product/{products[0]}", """{"name": "New Name"}""", ("If-Match", "*"))).AssertStatus(HttpStatusCode.OK);
        var value = parameter == "organisation_code" ? ods : (string)team["keys"]![0]!["key_value"]!;

        foreach (var query in new[] { "", "&limit=10" })
        {
            var found = (await _client.GetAsync($"/Product?{parameter}={value}{query}")).Json()["results"]![0]!["product_teams"]![0]!["products"]!.AsArray();
            Assert.Equal(products.Order(StringComparer.Ordinal), found.Select(product => (string)product!["id"]!));
            foreach (var product in found)
            {
                var read = (await _client.GetAsync($"/Product/{product!["id"]}")).Json();
                Assert.True(JsonNode.DeepEquals(read, product), $"search: {product.ToJsonString()}, read: {read.ToJsonString()}");
            }
        }
    }

    [Fact]
    public async Task TwoConcurrentPatchesWithOneETagGiveOneSuccessAndOnePreconditionFailure()
    {
        for (var round = 0; round < 5; round++)
        {
            var team = await _client.CreateTeamAsync();
            var patches = await Task.WhenAll(
                _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team["id"]}", """{"name": "First"}""", ("If-Match", "W/\"1\"")),
                _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team["id"]}", """{"name": "Second"}""", ("If-Match", "W/\"1\"")));

            Assert.Single(patches, reply => reply.Status == HttpStatusCode.OK);
            Assert.Single(patches, reply => reply.Status == HttpStatusCode.PreconditionFailed);
            Assert.Equal("W/\"2\"", patches.Single(reply => reply.Status == HttpStatusCode.PreconditionFailed).Header("ETag"));
        }
    }

    [Fact]
    public async Task DeletedEntitiesAreReadableWithIncludeDeleted()
    {
        var (team, product) = await _client.CreateTeamThatHadAProductAsync();
        var id = (string)team["id"]!;

        var deletedTeam = await _client.GetAsync($"/ProductTeam/{id}?include_deleted=true");
        var deletedProduct = await _client.GetAsync($"/Product/{product}?include_deleted=true");

        deletedTeam.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("inactive", (string)deletedTeam.Json()["status"]!);
        Assert.Equal((string)deletedTeam.Json()["updated_on"]!, (string)deletedTeam.Json()["deleted_on"]!);
        Assert.Equal("W/\"2\"", deletedTeam.Header("ETag"));
        Assert.Equal("inactive", (string)deletedProduct.Json()["status"]!);
        (await _client.GetAsync($"/ProductTeam/{id}?include_deleted=false")).AssertStatus(HttpStatusCode.NotFound);
        (await _client.GetAsync($"/Product/{product}?include_deleted=yes"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "ReadCpmProductQueryParams.include_deleted: value could not be parsed to a boolean");
    }

    [Fact]
    public async Task RestoringATeamBringsItBackWithoutItsProducts()
    {
        var team = await _client.CreateTeamAsync();
        var id = (string)team["id"]!;
        var product = (string)(await _client.CreateProductAsync(id))["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{id}/Product/{product}")).AssertStatus(HttpStatusCode.OK);
        (await _client.DeleteAsync($"/ProductTeam/{id}")).AssertStatus(HttpStatusCode.OK);

        var restored = await _client.PostAsync($"/ProductTeam/{id}/Restore", null);

        restored.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("active", (string)restored.Json()["status"]!);
        Assert.Null(restored.Json()["deleted_on"]);
        Assert.Equal("W/\"3\"", restored.Header("ETag"));
        Assert.Equal(restored.Body, (await _client.GetAsync($"/ProductTeam/{team["keys"]![0]!["key_value"]}")).Body);
        (await _client.GetAsync($"/Product/{product}")).AssertStatus(HttpStatusCode.NotFound);
        (await _client.PostAsync($"/ProductTeam/{id}/Restore", null)).AssertError(HttpStatusCode.Conflict, "CONFLICT", $"{id} is not deleted");
    }

    [Fact]
    public async Task RestoringATeamWhoseAliasWasRetakenIsAConflictAndRestoreTakesOnlyTheTeamsOwnId()
    {
        var team = await _client.CreateTeamAsync();
        var alias = (string)team["keys"]![0]!["key_value"]!;
        (await _client.DeleteAsync($"/ProductTeam/{alias}")).AssertStatus(HttpStatusCode.OK);
        await _client.CreateTeamAsync(alias: alias);

        var reply = await _client.PostAsync($"/ProductTeam/{team["id"]}/Restore", null);

        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
        Assert.StartsWith("""{"errors": [{"code": "CONFLICT", """, reply.Body);
        (await _client.PostAsync($"/ProductTeam/{alias}/Restore", null))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find ProductTeam for key ('{alias}')");
    }

    [Fact]
    public async Task RestoringAProductGoesThroughItsOwnLiveTeam()
    {
        var team = await _client.CreateTeamAsync();
        var id = (string)team["id"]!;
        var alias = (string)team["keys"]![0]!["key_value"]!;
        var other = (string)(await _client.CreateTeamAsync())["id"]!;
        var product = (string)(await _client.CreateProductAsync(id))["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{id}/Product/{product}")).AssertStatus(HttpStatusCode.OK);

        (await _client.PostAsync($"/ProductTeam/{other}/Product/{product}/Restore", null))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find CpmProduct for key ('{other}', '{product}')");
        (await _client.DeleteAsync($"/ProductTeam/{id}")).AssertStatus(HttpStatusCode.OK);
        (await _client.PostAsync($"/ProductTeam/{id}/Product/{product}/Restore", null)).AssertStatus(HttpStatusCode.Conflict);
        (await _client.PostAsync($"/ProductTeam/{id}/Restore", null)).AssertStatus(HttpStatusCode.OK);

        var restored = await _client.PostAsync($"/ProductTeam/{alias}/Product/{product}/Restore", null);

        restored.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("W/\"3\"", restored.Header("ETag"));
        Assert.Equal(restored.Body, (await _client.GetAsync($"/Product/{product}")).Body);
        (await _client.PostAsync($"/ProductTeam/{alias}/Product/{product}/Restore", null)).AssertError(HttpStatusCode.Conflict, "CONFLICT", $"{product} is not deleted");
    }

    [Fact]
    public async Task TeamHistoryShowsCreateRenameDeleteRestoreWithActorsAndChanges()
    {
        var team = await _client.CreateTeamAsync(name: "Before");
        var id = (string)team["id"]!;
        var alias = (string)team["keys"]![0]!["key_value"]!;
        var second = service.Client(CpmService.SecondApiKey);
        (await second.SendAsync(HttpMethod.Patch, $"/ProductTeam/{id}", """{"name": "After"}""", ("If-Match", "*"), ("X-Request-Id", "rename-1"), ("X-Correlation-Id", "corr-9"))).AssertStatus(HttpStatusCode.OK);
        (await _client.DeleteAsync($"/ProductTeam/{id}")).AssertStatus(HttpStatusCode.OK);
        (await _client.PostAsync($"/ProductTeam/{id}/Restore", null)).AssertStatus(HttpStatusCode.OK);

        var history = (await _client.GetAsync($"/ProductTeam/{alias}/History")).Json()["events"]!.AsArray();

        Assert.Equal(["ProductTeamCreated", "ProductTeamUpdated", "ProductTeamDeleted", "ProductTeamRestored"], history.Select(e => (string)e!["type"]!));
        Assert.Equal([1L, 2L, 3L, 4L], history.Select(e => (long)e!["version"]!));
        Assert.Equal(["apikey-0", "apikey-1", "apikey-0", "apikey-0"], history.Select(e => (string)e!["actor"]!));
        Assert.All(history, e => Assert.Equal("product_team", (string)e!["entity_type"]!));
        Assert.Contains(history[0]!["changes"]!.AsArray(), c => (string)c!["field"]! == "name" && c["old"] is null && (string)c["new"]! == "Before");
        Assert.Equal("""[{"field":"name","old":"Before","new":"After"}]""", history[1]!["changes"]!.ToJsonString());
        Assert.Equal("rename-1", (string)history[1]!["request_id"]!);
        Assert.Equal("corr-9", (string)history[1]!["correlation_id"]!);
        Assert.Equal("""[{"field":"status","old":"active","new":"inactive"}]""", history[2]!["changes"]!.ToJsonString());
        Assert.Equal("""[{"field":"status","old":"inactive","new":"active"}]""", history[3]!["changes"]!.ToJsonString());
        Assert.Equal(
            ["event_id", "entity_type", "entity_id", "type", "occurred_on", "version", "request_id", "correlation_id", "actor", "changes"],
            history[0]!.AsObject().Select(p => p.Key));
        Assert.All(history, e => AssertTimeOrderedId((string)e!["event_id"]!, (string)e["occurred_on"]!));
    }

    /// <summary>An event id is a lowercase version 7 uuid whose first 48 bits are its event's time in Unix milliseconds.</summary>
    private static void AssertTimeOrderedId(string eventId, string occurredOn)
    {
        var id = Guid.ParseExact(eventId, "D");
        Assert.Equal(eventId, id.ToString());
        Assert.Equal(7, id.Version);
        Assert.Equal(DateTimeOffset.Parse(occurredOn, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), Convert.ToInt64(eventId.Replace("-", "")[..12], 16));
    }

    [Fact]
    public async Task ProductHistoryWorksForDeletedProductsAndUnknownOnesAreNotFound()
    {
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        var product = (string)(await _client.CreateProductAsync(team))["id"]!;
        (await _client.DeleteAsync($"/ProductTeam/{team}/Product/{product}")).AssertStatus(HttpStatusCode.OK);

        var history = (await _client.GetAsync($"/Product/{product}/History")).Json()["events"]!.AsArray();

        Assert.Equal(["ProductCreated", "ProductDeleted"], history.Select(e => (string)e!["type"]!));
        (await _client.GetAsync("/Product/P.AAA-AAA/History")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "Could not find CpmProduct for key ('P.AAA-AAA')");
    }

    [Fact]
    public async Task FeedPagesResumeFromCursorsAndReadingAgainGivesTheSameSequence()
    {
        var start = await FeedEndAsync();
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        await _client.CreateProductAsync(team);
        await _client.CreateProductAsync(team);

        var first = (await _client.GetAsync($"/Events?after={start}&limit=2")).Json();
        var second = (await _client.GetAsync($"/Events?after={first["next_cursor"]}&limit=2")).Json();
        var again = (await _client.GetAsync($"/Events?after={start}&limit=3")).Json();

        Assert.Equal(2, first["events"]!.AsArray().Count);
        Assert.Equal(["ProductTeamCreated", "ProductCreated"], first["events"]!.AsArray().Select(e => (string)e!["type"]!));
        Assert.Equal(["ProductCreated"], second["events"]!.AsArray().Select(e => (string)e!["type"]!));
        Assert.Equal(
            first["events"]!.AsArray().Concat(second["events"]!.AsArray()).Select(e => e!.ToJsonString()),
            again["events"]!.AsArray().Select(e => e!.ToJsonString()));
        var empty = await _client.GetAsync($"/Events?after={second["next_cursor"]}");
        Assert.Equal($$"""{"events": [], "next_cursor": "{{second["next_cursor"]}}"}""", empty.Body);
    }

    [Theory]
    [InlineData("?limit=0", "ReadEventsQueryParams.limit: ensure this value is greater than or equal to 1")]
    [InlineData("?limit=1001", "ReadEventsQueryParams.limit: ensure this value is less than or equal to 1000")]
    [InlineData("?after=forged", "ReadEventsQueryParams.after: invalid cursor")]
    public async Task FeedRejectsBadParameters(string query, string message)
    {
        (await _client.GetAsync($"/Events{query}")).AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", message);
    }

    [Fact]
    public async Task AFeedPollerSeesEveryEventExactlyOnceWhileWritersRun()
    {
        var start = await FeedEndAsync();
        var seen = new List<string>();
        using var writersDone = new CancellationTokenSource();
        var writers = Task.Run(async () =>
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 8), async (_, _) =>
            {
                var team = (string)(await _client.CreateTeamAsync())["id"]!;
                for (var i = 0; i < 5; i++)
                {
                    await _client.CreateProductAsync(team);
                }
            });
            await writersDone.CancelAsync();
        });

        var cursor = start;
        while (true)
        {
            var done = writersDone.IsCancellationRequested;
            var page = (await _client.GetAsync($"/Events?after={cursor}&limit=7")).Json();
            seen.AddRange(page["events"]!.AsArray().Select(e => (string)e!["event_id"]!));
            cursor = (string)page["next_cursor"]!;
            if (done && page["events"]!.AsArray().Count == 0)
            {
                break;
            }
        }

        await writers;
        Assert.Equal(8 * 6, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    private async Task<string> FeedEndAsync()
    {
        var cursor = "0";
        while (true)
        {
            var page = (await _client.GetAsync($"/Events?after={cursor}&limit=1000")).Json();
            if (page["events"]!.AsArray().Count == 0)
            {
                return cursor;
            }

            cursor = (string)page["next_cursor"]!;
        }
    }
}

public sealed class SqliteChangeTests(SqliteService service) : ChangeTests(service), IClassFixture<SqliteService>;
