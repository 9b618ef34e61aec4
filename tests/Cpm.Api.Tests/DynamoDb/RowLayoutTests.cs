using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon.DynamoDBv2.Model;
using Cpm.Api.Tests.Infrastructure;
using Xunit.Abstractions;
using static Cpm.Api.Tests.DynamoDb.RawRows;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>The rows our writes leave, attribute by attribute and type by type (docs/DYNAMODB.md, Rows), read with the low-level client.</summary>
public sealed class RowLayoutTests(DynamoDbPinnedClockService service, ITestOutputHelper output) : IClassFixture<DynamoDbPinnedClockService>
{
    private const string Now = "2025-01-30T14:30:18.191643+00:00";
    private const long NowEpochMs = 1738247418191;

    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task TeamLifecycleWritesTheExistingServiceRowsPlusVersionsIdRowsAndEvents()
    {
        var ods = Unique.OdsCode();
        var alias = Guid.NewGuid().ToString();
        var created = await _client.PostAsync("/ProductTeam",
            $$"""{"ods_code": "{{ods}}", "name": "Row Team", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""",
            ("X-Request-Id", "request-1"), ("X-Correlation-Id", "correlation-1"));
        created.AssertStatus(HttpStatusCode.Created);
        var id = (string)created.Json()["id"]!;
        var team = $"PT#{id}";
        var aliasKey = $"PT#{alias}";
        var keys = $"keys = L[M{{key_type = S:\"product_team_id\", key_value = S:\"{alias}\"}}]";

        Assert.Equal(Lines(
            $"pk = S:\"{team}\"", $"sk = S:\"{team}\"", $"pk_read_1 = S:\"{team}\"", $"sk_read_1 = S:\"{team}\"",
            $"pk_read_2 = S:\"ORG#{ods}\"", $"sk_read_2 = S:\"{team}\"", "root = BOOL:true", "row_type = S:\"product_team\"",
            $"id = S:\"{id}\"", "name = S:\"Row Team\"", $"ods_code = S:\"{ods}\"", "status = S:\"active\"",
            $"created_on = S:\"{Now}\"", "updated_on = NULL", "deleted_on = NULL", keys, "version = N:1"),
            await DescribeAsync(team, team, "team row after create"));
        Assert.Equal(Lines(
            $"pk = S:\"{aliasKey}\"", $"sk = S:\"{aliasKey}\"", $"pk_read_1 = S:\"{aliasKey}\"", $"sk_read_1 = S:\"{aliasKey}\"",
            "root = BOOL:false", "row_type = S:\"product_team_alias\"",
            $"id = S:\"{id}\"", "name = S:\"Row Team\"", $"ods_code = S:\"{ods}\"", "status = S:\"active\"",
            $"created_on = S:\"{Now}\"", "updated_on = NULL", "deleted_on = NULL", keys, "version = N:1"),
            await DescribeAsync(aliasKey, aliasKey, "alias row after create"));

        var productId = (string)(await _client.CreateProductAsync(alias, "Row Product"))["id"]!;
        var product = $"P#{productId}";
        string[] productRow =
        [
            $"pk = S:\"{team}\"", $"sk = S:\"{product}\"", $"pk_read_1 = S:\"{product}\"", $"sk_read_1 = S:\"{product}\"",
            $"pk_read_2 = S:\"ORG#{ods}\"", $"sk_read_2 = S:\"{product}\"", "root = BOOL:true", "row_type = S:\"product\"",
            $"id = S:\"{productId}\"", $"cpm_product_team_id = S:\"{id}\"", $"product_team_id = S:\"{alias}\"", "name = S:\"Row Product\"",
            $"ods_code = S:\"{ods}\"", $"created_on = S:\"{Now}\"", "keys = L[]",
        ];
        Assert.Equal(Lines([.. productRow, "status = S:\"active\"", "updated_on = NULL", "deleted_on = NULL", "version = N:1"]),
            await DescribeAsync(team, product, "product row after create"));
        string[] idRow =
        [
            $"pk = S:\"PRODUCT_ID#{productId}\"", $"sk = S:\"PRODUCT_ID#{productId}\"", "row_type = S:\"product_id\"",
            $"id = S:\"{productId}\"", $"cpm_product_team_id = S:\"{id}\"", $"product_team_id = S:\"{alias}\"", "name = S:\"Row Product\"",
            $"ods_code = S:\"{ods}\"", $"created_on = S:\"{Now}\"",
        ];
        Assert.Equal(Lines([.. idRow, "status = S:\"active\"", "updated_on = NULL", "deleted_on = NULL", "version = N:1"]),
            await DescribeAsync($"PRODUCT_ID#{productId}", $"PRODUCT_ID#{productId}", "product id row"));
        Assert.Contains("products_version = N:1", await DescribeAsync(team, team, "team row after product create"), StringComparison.Ordinal);

        (await _client.DeleteAsync($"/ProductTeam/{id}/Product/{productId}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(Lines([.. productRow, "status = S:\"inactive\"", $"updated_on = S:\"{Now}\"", $"deleted_on = S:\"{Now}\"", "version = N:2"]),
            await DescribeAsync(team, product, "product row after delete"));
        Assert.Equal(Lines([.. idRow, "status = S:\"inactive\"", $"updated_on = S:\"{Now}\"", $"deleted_on = S:\"{Now}\"", "version = N:2"]),
            await DescribeAsync($"PRODUCT_ID#{productId}", $"PRODUCT_ID#{productId}", "product id row after delete"));

        (await _client.DeleteAsync($"/ProductTeam/{alias}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(Lines(
            $"pk = S:\"{team}\"", $"sk = S:\"{team}\"", $"pk_read_1 = S:\"{team}\"", $"sk_read_1 = S:\"{team}\"",
            $"pk_read_2 = S:\"ORG#{ods}\"", $"sk_read_2 = S:\"{team}\"", "root = BOOL:true", "row_type = S:\"product_team\"",
            $"id = S:\"{id}\"", "name = S:\"Row Team\"", $"ods_code = S:\"{ods}\"", "status = S:\"inactive\"",
            $"created_on = S:\"{Now}\"", $"updated_on = S:\"{Now}\"", $"deleted_on = S:\"{Now}\"", keys, "version = N:2", "products_version = N:1"),
            await DescribeAsync(team, team, "team row after delete"));
        Assert.Null(await GetAsync(service.Dynamo, service.TableName, aliasKey, aliasKey));
        var tombstone = $"PT#{alias}-{NowEpochMs}";
        Assert.Equal(Lines(
            $"pk = S:\"{tombstone}\"", $"sk = S:\"{tombstone}\"", $"pk_read_1 = S:\"{tombstone}\"", $"sk_read_1 = S:\"{tombstone}\"",
            "root = BOOL:false", "row_type = S:\"product_team_alias\"",
            $"id = S:\"{id}\"", "name = S:\"Row Team\"", $"ods_code = S:\"{ods}\"", "status = S:\"inactive\"",
            $"created_on = S:\"{Now}\"", $"updated_on = S:\"{Now}\"", $"deleted_on = S:\"{Now}\"", keys, "version = N:2"),
            await DescribeAsync(tombstone, tombstone, "alias tombstone after delete"));

        var teamEvents = await PartitionAsync(service.Dynamo, service.TableName, $"HISTORY#product_team#{id}");
        var productEvents = await PartitionAsync(service.Dynamo, service.TableName, $"HISTORY#product#{productId}");
        Assert.Equal(["ProductTeamCreated", "ProductTeamDeleted"], teamEvents.Select(row => row["type"].S));
        Assert.Equal(["ProductCreated", "ProductDeleted"], productEvents.Select(row => row["type"].S));
        var sequence = new[] { teamEvents[0], productEvents[0], productEvents[1], teamEvents[1] }.Select(row => long.Parse(row["seq"].N)).ToList();
        Assert.Equal(sequence.Order(), sequence);

        var createdEvent = teamEvents[0];
        var seq = createdEvent["seq"].N;
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", createdEvent["event_id"].S);
        Assert.Equal(Lines(
            $"pk = S:\"HISTORY#product_team#{id}\"", $"sk = S:\"{long.Parse(seq):D20}\"", "row_type = S:\"change_event\"", $"seq = N:{seq}",
            $"event_id = S:\"{createdEvent["event_id"].S}\"", "entity_type = S:\"product_team\"", $"entity_id = S:\"{id}\"",
            "type = S:\"ProductTeamCreated\"", $"occurred_on = S:\"{Now}\"", "version = N:1",
            "request_id = S:\"request-1\"", "correlation_id = S:\"correlation-1\"", "actor = S:\"apikey-0\"",
            "changes = L[M{field = S:\"name\", new = S:\"Row Team\", old = NULL}, " +
            $"M{{field = S:\"ods_code\", new = S:\"{ods}\", old = NULL}}, " +
            "M{field = S:\"status\", new = S:\"active\", old = NULL}, " +
            $"M{{field = S:\"product_team_id\", new = S:\"{alias}\", old = NULL}}]"),
            Describe(createdEvent));
        output.WriteLine($"event row (history copy):\n{Describe(createdEvent)}\n");

        foreach (var history in teamEvents.Concat(productEvents))
        {
            var feed = await GetAsync(service.Dynamo, service.TableName, "EVENT_FEED", history["sk"].S);
            Assert.NotNull(feed);
            Assert.Equal(Describe(history).Replace(history["pk"].S, "EVENT_FEED", StringComparison.Ordinal), Describe(feed));
        }

        var counter = await GetAsync(service.Dynamo, service.TableName, "EVENT_SEQUENCE", "EVENT_SEQUENCE");
        Assert.Equal(sequence.Max(), long.Parse(counter!["last_seq"].N));

        // The create carried X-Request-Id: its answer was stored in the create's own transaction.
        var response = ResponseKey("apikey-0", "request-1");
        var remembered = await DescribeAsync(response, response, "remembered answer of the create");
        Assert.Equal(Lines(
            $"pk = S:\"{response}\"", $"sk = S:\"{response}\"", "row_type = S:\"response\"",
            "caller = S:\"apikey-0\"", "request_id = S:\"request-1\"", "status = N:201", $"body = S:\"{created.Body}\"",
            "etag = S:\"W/\"1\"\"", $"created_on = S:\"{Now}\"", $"expires_at = N:{(NowEpochMs / 1000) + (24 * 3600) + 1}"),
            WithoutFingerprint(remembered));
    }

    [Fact]
    public async Task RenameAndRestoreRewriteTheTeamAndItsAliasRowInPlace()
    {
        var ods = Unique.OdsCode();
        var alias = Guid.NewGuid().ToString();
        var id = (string)(await _client.CreateTeamAsync(ods, "Before", alias))["id"]!;
        var team = $"PT#{id}";
        var aliasKey = $"PT#{alias}";
        string[] TeamRow(string status, string deletedOn, int version) =>
        [
            $"pk = S:\"{team}\"", $"sk = S:\"{team}\"", $"pk_read_1 = S:\"{team}\"", $"sk_read_1 = S:\"{team}\"",
            $"pk_read_2 = S:\"ORG#{ods}\"", $"sk_read_2 = S:\"{team}\"", "root = BOOL:true", "row_type = S:\"product_team\"",
            .. TeamFields(id, ods, alias, status, deletedOn, version),
        ];
        string[] AliasRow(string key, string status, string deletedOn, int version) =>
        [
            $"pk = S:\"{key}\"", $"sk = S:\"{key}\"", $"pk_read_1 = S:\"{key}\"", $"sk_read_1 = S:\"{key}\"",
            "root = BOOL:false", "row_type = S:\"product_team_alias\"",
            .. TeamFields(id, ods, alias, status, deletedOn, version),
        ];

        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{alias}", """{"name": "After"}""", ("If-Match", "W/\"1\""))).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(Lines(TeamRow("active", "NULL", 2)), await DescribeAsync(team, team, "team row after rename"));
        Assert.Equal(Lines(AliasRow(aliasKey, "active", "NULL", 2)), await DescribeAsync(aliasKey, aliasKey, "alias row after rename"));

        (await _client.DeleteAsync($"/ProductTeam/{id}")).AssertStatus(HttpStatusCode.OK);
        var restored = await _client.PostAsync($"/ProductTeam/{id}/Restore", null, ("X-Request-Id", "restore-1"));
        restored.AssertStatus(HttpStatusCode.OK);

        Assert.Equal(Lines(TeamRow("active", "NULL", 4)), await DescribeAsync(team, team, "team row after restore"));
        Assert.Equal(Lines(AliasRow(aliasKey, "active", "NULL", 4)), await DescribeAsync(aliasKey, aliasKey, "alias row after restore"));
        var tombstone = $"PT#{alias}-{NowEpochMs}";
        Assert.Equal(Lines(AliasRow(tombstone, "inactive", $"S:\"{Now}\"", 3)), await DescribeAsync(tombstone, tombstone, "alias tombstone left by the delete"));

        var events = await PartitionAsync(service.Dynamo, service.TableName, $"HISTORY#product_team#{id}");
        Assert.Equal(["ProductTeamCreated", "ProductTeamUpdated", "ProductTeamDeleted", "ProductTeamRestored"], events.Select(row => row["type"].S));
        Assert.Equal("L[M{field = S:\"name\", new = S:\"After\", old = S:\"Before\"}]", RawRows.Describe(events[1]["changes"]));
        Assert.Equal("L[M{field = S:\"status\", new = S:\"active\", old = S:\"inactive\"}]", RawRows.Describe(events[3]["changes"]));
        Assert.Equal(["2", "4"], new[] { events[1], events[3] }.Select(row => row["version"].N));

        var response = ResponseKey("apikey-0", "restore-1");
        var remembered = await DescribeAsync(response, response, "remembered answer of the restore");
        Assert.Equal(Lines(
            $"pk = S:\"{response}\"", $"sk = S:\"{response}\"", "row_type = S:\"response\"",
            "caller = S:\"apikey-0\"", "request_id = S:\"restore-1\"", "status = N:200", $"body = S:\"{restored.Body}\"",
            "etag = S:\"W/\"4\"\"", $"created_on = S:\"{Now}\"", $"expires_at = N:{(NowEpochMs / 1000) + (24 * 3600) + 1}"),
            WithoutFingerprint(remembered));
    }

    [Fact]
    public async Task ProductRenameAndRestoreRewriteTheProductRowAndCountTheRestoreOnTheTeam()
    {
        var ods = Unique.OdsCode();
        var alias = Guid.NewGuid().ToString();
        var id = (string)(await _client.CreateTeamAsync(ods, "Product Team", alias))["id"]!;
        var productId = (string)(await _client.CreateProductAsync(id, "Before"))["id"]!;
        var team = $"PT#{id}";
        var product = $"P#{productId}";

        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{id}/Product/{productId}", """{"name": "After"}""", ("If-Match", "*"))).AssertStatus(HttpStatusCode.OK);
        var renamed = await DescribeAsync(team, product, "product row after rename");
        Assert.Contains("name = S:\"After\"", renamed, StringComparison.Ordinal);
        Assert.Contains($"updated_on = S:\"{Now}\"", renamed, StringComparison.Ordinal);
        Assert.Contains("version = N:2", renamed, StringComparison.Ordinal);

        (await _client.DeleteAsync($"/ProductTeam/{id}/Product/{productId}")).AssertStatus(HttpStatusCode.OK);
        (await _client.PostAsync($"/ProductTeam/{id}/Product/{productId}/Restore", null)).AssertStatus(HttpStatusCode.OK);
        var restored = await DescribeAsync(team, product, "product row after restore");
        Assert.Equal(Lines(
            $"pk = S:\"{team}\"", $"sk = S:\"{product}\"", $"pk_read_1 = S:\"{product}\"", $"sk_read_1 = S:\"{product}\"",
            $"pk_read_2 = S:\"ORG#{ods}\"", $"sk_read_2 = S:\"{product}\"", "root = BOOL:true", "row_type = S:\"product\"",
            $"id = S:\"{productId}\"", $"cpm_product_team_id = S:\"{id}\"", $"product_team_id = S:\"{alias}\"",
            "name = S:\"After\"", $"ods_code = S:\"{ods}\"", "status = S:\"active\"", $"created_on = S:\"{Now}\"", $"updated_on = S:\"{Now}\"",
            "deleted_on = NULL", "keys = L[]", "version = N:4"),
            restored);
        Assert.Contains("products_version = N:2", await DescribeAsync(team, team, "team row after the product's restore"), StringComparison.Ordinal);
    }

    /// <summary>The key of a remembered answer: a hash of the caller's name and the request id.</summary>
    private static string ResponseKey(string caller, string requestId) =>
        $"RESPONSE#{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller}\n{requestId}")))}";

    /// <summary>The row without its request fingerprint (a SHA-256 of the request), which is checked for its form only.</summary>
    private static string WithoutFingerprint(string row)
    {
        var lines = row.Split('\n');
        Assert.Matches("^fingerprint = S:\"[0-9A-F]{64}\"$", lines.Single(line => line.StartsWith("fingerprint =", StringComparison.Ordinal)));
        return Lines([.. lines.Where(line => !line.StartsWith("fingerprint =", StringComparison.Ordinal))]);
    }

    private static string[] TeamFields(string id, string ods, string alias, string status, string deletedOn, int version) =>
    [
        $"id = S:\"{id}\"", "name = S:\"After\"", $"ods_code = S:\"{ods}\"", $"status = S:\"{status}\"",
        $"created_on = S:\"{Now}\"", $"updated_on = S:\"{Now}\"", $"deleted_on = {deletedOn}",
        $"keys = L[M{{key_type = S:\"product_team_id\", key_value = S:\"{alias}\"}}]", $"version = N:{version}",
    ];

    private async Task<string> DescribeAsync(string pk, string sk, string what)
    {
        var row = await GetAsync(service.Dynamo, service.TableName, pk, sk);
        Assert.True(row is not null, $"no {what} at {pk} / {sk}");
        var text = Describe(row);
        output.WriteLine($"{what}:\n{text}\n");
        return Lines(text.Split('\n'));
    }

    private static string Describe(Dictionary<string, AttributeValue> row) => RawRows.Describe(row);
}
