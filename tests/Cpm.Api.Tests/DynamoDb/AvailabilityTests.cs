using System.Net;
using Cpm.Api.Tests.Infrastructure;
using static Cpm.Api.Tests.DynamoDb.RawRows;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>DynamoDB in trouble: conflicts are retried, failures are 503 (never a 404 or a 500), configuration is checked at start-up.</summary>
public sealed class AvailabilityTests(DynamoDbFaultService service) : IClassFixture<DynamoDbFaultService>
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task StatusMakesARealRoundTripAndReportsAnOutage()
    {
        var healthy = await _client.GetAsync("/_status");
        service.Faults.Down = true;
        try
        {
            var down = await _client.GetAsync("/_status");

            Assert.Equal("""{"code": "OK", "message": "Transaction successful"}""", healthy.Body);
            down.AssertStatus(HttpStatusCode.ServiceUnavailable);
            var error = down.Json()["errors"]![0]!;
            Assert.Equal("SERVICE_UNAVAILABLE", (string)error["code"]!);
            Assert.StartsWith("DynamoDB is unavailable: Internal server error (injected)", (string)error["message"]!, StringComparison.Ordinal);
        }
        finally
        {
            service.Faults.Down = false;
        }
    }

    [Fact]
    public async Task ReadinessNeedsNoKeyAndSaysOnlyWhetherTheServiceIsReady()
    {
        var probe = service.Client(apiKey: null, version: null);
        var ready = await probe.GetAsync("/_ready");
        service.Faults.Down = true;
        try
        {
            var down = await probe.GetAsync("/_ready");

            Assert.Equal("""{"code": "OK", "message": "Ready"}""", ready.Body);
            down.AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE", "Not ready");
        }
        finally
        {
            service.Faults.Down = false;
        }
    }

    [Fact]
    public async Task OutageIsServiceUnavailableForReadsAndWritesAndWritesNothing()
    {
        var ods = Unique.OdsCode();
        service.Faults.Down = true;
        try
        {
            var read = await _client.GetAsync($"/ProductTeam/{Guid.NewGuid()}");
            var write = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Lost"}""");

            foreach (var reply in new[] { read, write })
            {
                reply.AssertStatus(HttpStatusCode.ServiceUnavailable);
                Assert.Equal("5", reply.Header("Retry-After"));
                Assert.Equal("1", reply.Header("Version"));
                Assert.StartsWith("""{"errors": [{"code": "SERVICE_UNAVAILABLE", """, reply.Body);
            }
        }
        finally
        {
            service.Faults.Down = false;
        }

        Assert.Equal("""{"results": []}""", (await _client.GetAsync($"/ProductTeam?organisation_code={ods}")).Body);
    }

    [Fact]
    public async Task TransactionConflictsAreRetriedUntilTheWriteCommitsOnce()
    {
        var before = service.Faults.ConflictsSent;
        service.Faults.CancelNextTransactions(3);

        var created = await _client.CreateTeamAsync();

        Assert.Equal(3, service.Faults.ConflictsSent - before);
        var id = (string)created["id"]!;
        Assert.Equal(created.ToJsonString(), (await _client.GetAsync($"/ProductTeam/{id}")).Json().ToJsonString());
        Assert.Single(await PartitionAsync(service.Dynamo, service.TableName, $"HISTORY#product_team#{id}"));
    }

    [Fact]
    public async Task StartUpFailsWithoutATableName()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var refused = IsolatedService.Start(service.Ord.BaseUrl, new Dictionary<string, string?> { ["Storage:Provider"] = "DynamoDb" });
        });

        Assert.Contains("Storage:DynamoDb:TableName is required when Storage:Provider is DynamoDb.", failure.ToString(), StringComparison.Ordinal);
    }
}
