using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>
/// Input DynamoDB cannot hold for its size is the client's to change: 413 PAYLOAD_TOO_LARGE, never
/// a 503 outage, and nothing is written. Long request ids are hashed into the response row's key.
/// </summary>
public sealed class ItemSizeTests(DynamoDbService service) : IClassFixture<DynamoDbService>
{
    private const string TooLarge = "Request is too large to store: it would make a DynamoDB item of ";

    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task ATeamNameTooLargeForOneItemIsPayloadTooLargeAndNothingIsStored()
    {
        var ods = Unique.OdsCode();
        var feedBefore = await FeedLengthAsync();

        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "{{new string('A', 410_000)}}"}""");

        AssertTooLarge(reply);
        Assert.Equal("""{"results": []}""", (await _client.GetAsync($"/ProductTeam?organisation_code={ods}")).Body);
        Assert.Equal(feedBefore, await FeedLengthAsync());
    }

    [Fact]
    public async Task AProductNameTooLargeForOneItemIsPayloadTooLarge()
    {
        var team = (string)(await _client.CreateTeamAsync())["id"]!;

        AssertTooLarge(await _client.PostAsync($"/ProductTeam/{team}/Product", $$"""{"name": "{{new string('P', 410_000)}}"}"""));

        Assert.Equal("""{"results": []}""", (await _client.GetAsync($"/Product?product_team_id={team}")).Body);
    }

    [Fact]
    public async Task ARenameWhoseEventWouldPassTheLimitIsPayloadTooLargeAndChangesNothing()
    {
        // Each name fits in a row; the rename event carries the old and the new one and would not.
        var oldName = new string('B', 250_000);
        var team = await _client.CreateTeamAsync(name: oldName);
        var id = (string)team["id"]!;

        AssertTooLarge(await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{id}", $$"""{"name": "{{new string('C', 250_000)}}"}""", ("If-Match", "*")));

        var current = await _client.GetAsync($"/ProductTeam/{id}");
        Assert.Equal(oldName, (string)current.Json()["name"]!);
        Assert.Equal("W/\"1\"", current.Header("ETag"));
        Assert.Single((await _client.GetAsync($"/ProductTeam/{id}/History")).Json()["events"]!.AsArray());
    }

    [Fact]
    public async Task ARequestIdLongerThanAKeyMayBeIsStillRememberedAndReplayed()
    {
        var requestId = new string('r', 4000);
        var body = $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "Long Request Id"}""";

        var first = await _client.PostAsync("/ProductTeam", body, ("X-Request-Id", requestId));
        var again = await _client.PostAsync("/ProductTeam", body, ("X-Request-Id", requestId));

        first.AssertStatus(HttpStatusCode.Created);
        again.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(first.Body, again.Body);
    }

    private static void AssertTooLarge(Reply reply)
    {
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, reply.Status);
        var error = reply.Json()["errors"]!.AsArray().Single()!;
        Assert.Equal("PAYLOAD_TOO_LARGE", (string)error["code"]!);
        Assert.StartsWith(TooLarge, (string)error["message"]!, StringComparison.Ordinal);
    }

    private async Task<int> FeedLengthAsync() => (await _client.GetAsync("/Events?limit=1000")).Json()["events"]!.AsArray().Count;
}
