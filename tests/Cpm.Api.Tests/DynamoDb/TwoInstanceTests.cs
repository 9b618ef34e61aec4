using System.Net;
using Cpm.Api.Tests.Infrastructure;
using static Cpm.Api.Tests.DynamoDb.RawRows;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>Two service instances on one table: DynamoDB's transactions and conditions keep their writes apart (docs/API.md section 8, docs/DYNAMODB.md).</summary>
public sealed class TwoInstanceTests(DynamoDbService service) : IClassFixture<DynamoDbService>
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task ConcurrentWritesFromTwoInstancesGetOneGaplessOrderedEventSequence()
    {
        await using var other = await service.StartAnotherInstanceAsync();
        var clients = new[] { _client, other.Client() };
        var ods = Unique.OdsCode();

        var replies = await AllAtOnceAsync(Enumerable.Range(0, 24).Select(index =>
            (Func<Task<Reply>>)(() => clients[index % 2].PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Team {{index}}"}"""))));

        Assert.All(replies, reply => reply.AssertStatus(HttpStatusCode.Created));
        var feed = await PartitionAsync(service.Dynamo, service.TableName, "EVENT_FEED");
        var sequence = feed.Select(row => long.Parse(row["seq"].N)).ToList();
        Assert.Equal(Enumerable.Range(1, feed.Count).Select(number => (long)number), sequence);
        Assert.Equal(feed.Count, feed.Select(row => row["event_id"].S).Distinct().Count());
        var created = replies.Select(reply => (string)reply.Json()["id"]!).ToHashSet();
        Assert.Equal(created.Order(StringComparer.Ordinal),
            feed.Where(row => row["type"].S == "ProductTeamCreated" && created.Contains(row["entity_id"].S)).Select(row => row["entity_id"].S).Order(StringComparer.Ordinal));
        var counter = await GetAsync(service.Dynamo, service.TableName, "EVENT_SEQUENCE", "EVENT_SEQUENCE");
        Assert.Equal(sequence[^1], long.Parse(counter!["last_seq"].N));
    }

    [Fact]
    public async Task TwoInstancesRacingForOneAliasGiveExactlyOneTeam()
    {
        await using var other = await service.StartAnotherInstanceAsync();
        var clients = new[] { _client, other.Client() };
        var alias = Guid.NewGuid().ToString();
        var body = $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "Racer", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""";

        var replies = await AllAtOnceAsync(Enumerable.Range(0, 16).Select(index => (Func<Task<Reply>>)(() => clients[index % 2].PostAsync("/ProductTeam", body))));

        var winner = Assert.Single(replies, reply => reply.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(reply => reply != winner), loser => loser.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Item already exists"));
        Assert.Equal(winner.Body, (await other.Client().GetAsync($"/ProductTeam/{alias}")).Body);
    }

    /// <summary>Starts every request at the same moment, each on its own task.</summary>
    private static async Task<Reply[]> AllAtOnceAsync(IEnumerable<Func<Task<Reply>>> requests)
    {
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = requests.Select(request => Task.Run(async () =>
        {
            await go.Task;
            return await request();
        })).ToList();
        go.SetResult();
        return await Task.WhenAll(running);
    }
}
