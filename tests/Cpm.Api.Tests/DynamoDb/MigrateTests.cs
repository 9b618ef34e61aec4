using System.Net;
using Amazon.DynamoDBv2.Model;
using Cpm.Api.Tests.Infrastructure;
using static Cpm.Api.Tests.DynamoDb.RawRows;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>
/// A table the existing service wrote, before and after <c>migrate</c> (docs/DYNAMODB.md): its
/// products are served either way, in two calls before (they have no id row) and in one after.
/// </summary>
public sealed class MigrateTests(DynamoDbFaultService service) : IClassFixture<DynamoDbFaultService>
{
    private const string Ods = "MIGRATE1";
    private const string Created = "2025-01-30T14:30:18.191643+00:00";
    private const string LegacyProduct = "P.MGR-TST";

    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task MigrateCopiesProductsToIdRowsAndThenReadsByIdTakeOneCall()
    {
        var teamId = Guid.NewGuid().ToString();
        await PutAsync(service.Dynamo, service.TableName, LegacyTeamRow(teamId));
        await PutAsync(service.Dynamo, service.TableName, LegacyProductRow(LegacyProduct, teamId));

        var (before, beforeCalls) = await CountAsync(() => _client.GetAsync($"/Product/{LegacyProduct}"));
        var (created, createCalls) = await CountAsync(() => _client.PostAsync($"/ProductTeam/{teamId}/Product", """{"name": "New"}"""));
        var newProduct = (string)created.Json()["id"]!;
        var (ours, oursCalls) = await CountAsync(() => _client.GetAsync($"/Product/{newProduct}"));

        var (exitCode, output) = await ServiceProcess.RunToExitAsync(
            ["migrate", "--Storage:Provider=DynamoDb", $"--Storage:DynamoDb:TableName={service.TableName}", $"--Storage:DynamoDb:ServiceUrl={service.Moto.Url}"],
            TimeSpan.FromSeconds(60));
        (await _client.GetAsync("/_status")).AssertStatus(HttpStatusCode.OK);
        var (after, afterCalls) = await CountAsync(() => _client.GetAsync($"/Product/{LegacyProduct}"));
        var (oursAfter, oursAfterCalls) = await CountAsync(() => _client.GetAsync($"/Product/{newProduct}"));
        var (next, nextCalls) = await CountAsync(() => _client.PostAsync($"/ProductTeam/{teamId}/Product", """{"name": "Next"}"""));

        Assert.Equal(["GetItem", "Query"], beforeCalls);
        Assert.Equal(["GetItem", "GetItem", "Query", "TransactWriteItems"], createCalls);
        Assert.Equal(["GetItem", "GetItem"], oursCalls);
        Assert.True(exitCode == 0, output);
        Assert.Contains("Copied 2 products to their id rows; the table is taken over.", output, StringComparison.Ordinal);
        Assert.Equal(["GetItem"], afterCalls);
        Assert.Equal(["GetItem"], oursAfterCalls);
        // The team was found for the first create: the next one skips reading it.
        Assert.Equal(["GetItem", "TransactWriteItems"], nextCalls);
        before.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(before.Body, after.Body);
        Assert.Equal(ours.Body, oursAfter.Body);
        next.AssertStatus(HttpStatusCode.Created);
        var idRow = (await GetAsync(service.Dynamo, service.TableName, $"PRODUCT_ID#{LegacyProduct}", $"PRODUCT_ID#{LegacyProduct}"))!;
        Assert.Equal(("product_id", teamId, "Legacy Product", "N:1"), (idRow["row_type"].S, idRow["cpm_product_team_id"].S, idRow["name"].S, Describe(idRow["version"])));
        Assert.True((await GetAsync(service.Dynamo, service.TableName, "EVENT_SEQUENCE", "EVENT_SEQUENCE"))!["taken_over"].BOOL);
    }

    private async Task<(Reply Reply, IReadOnlyList<string> Calls)> CountAsync(Func<Task<Reply>> request)
    {
        service.Faults.ForgetCalls();
        var reply = await request();
        return (reply, service.Faults.Calls);
    }

    private static Dictionary<string, AttributeValue> LegacyTeamRow(string id) => new()
    {
        ["pk"] = S($"PT#{id}"),
        ["sk"] = S($"PT#{id}"),
        ["pk_read_1"] = S($"PT#{id}"),
        ["sk_read_1"] = S($"PT#{id}"),
        ["pk_read_2"] = S($"ORG#{Ods}"),
        ["sk_read_2"] = S($"PT#{id}"),
        ["root"] = Bool(true),
        ["row_type"] = S("product_team"),
        ["id"] = S(id),
        ["name"] = S("Legacy Team"),
        ["ods_code"] = S(Ods),
        ["status"] = S("active"),
        ["created_on"] = S(Created),
        ["updated_on"] = Null(),
        ["deleted_on"] = Null(),
        ["keys"] = List(),
    };

    /// <summary>As the existing service left a live product: no version, no keys, no id row.</summary>
    private static Dictionary<string, AttributeValue> LegacyProductRow(string id, string teamId) => new()
    {
        ["pk"] = S($"PT#{teamId}"),
        ["sk"] = S($"P#{id}"),
        ["pk_read_1"] = S($"P#{id}"),
        ["sk_read_1"] = S($"P#{id}"),
        ["pk_read_2"] = S($"ORG#{Ods}"),
        ["sk_read_2"] = S($"P#{id}"),
        ["root"] = Bool(true),
        ["row_type"] = S("product"),
        ["id"] = S(id),
        ["cpm_product_team_id"] = S(teamId),
        ["product_team_id"] = Null(),
        ["name"] = S("Legacy Product"),
        ["ods_code"] = S(Ods),
        ["status"] = S("active"),
        ["created_on"] = S(Created),
        ["updated_on"] = Null(),
        ["deleted_on"] = Null(),
    };
}
