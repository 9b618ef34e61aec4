using Cpm.Api.Entities;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.DynamoDb;

/// <summary>
/// What DynamoDB cannot hold for its size is refused before anything is written. Requests cannot
/// reach this any more (names are at most 255 characters, request ids 200), but names already
/// stored are served whatever their length, so the store guards itself: here it is driven directly.
/// Long request ids are hashed into the response row's key.
/// </summary>
public sealed class ItemSizeTests(DynamoDbService service) : IClassFixture<DynamoDbService>
{
    private const string TooLarge = "Request is too large to store: it would make a DynamoDB item of ";

    private readonly ICpmStore _store = service.Services.GetRequiredService<ICpmStore>();
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task ATeamTooLargeForOneItemIsRefusedAndNothingIsStored()
    {
        var team = NewTeam(new string('A', 410_000));
        var feedBefore = await FeedLengthAsync();

        var refused = await Assert.ThrowsAsync<TooLargeToStoreException>(() => _store.CreateTeamAsync(team, Write(), CancellationToken.None));

        Assert.StartsWith(TooLarge, refused.Message, StringComparison.Ordinal);
        Assert.Null(await _store.GetTeamAsync(team.Id, CancellationToken.None));
        Assert.Equal(feedBefore, await FeedLengthAsync());
    }

    [Fact]
    public async Task ARenameWhoseEventWouldPassTheLimitIsRefusedAndChangesNothing()
    {
        // Each name fits in a row; the rename event carries the old and the new one and would not.
        var team = NewTeam(new string('B', 250_000));
        Assert.True(await _store.CreateTeamAsync(team, Write(), CancellationToken.None));

        await Assert.ThrowsAsync<TooLargeToStoreException>(() =>
            _store.RenameTeamAsync(team.Renamed(new string('C', 250_000), DateTimeOffset.UtcNow), team.Version, Write(), CancellationToken.None));

        var current = await _store.GetTeamAsync(team.Id, CancellationToken.None);
        Assert.Equal(team.Name, current!.Name);
        Assert.Equal(1, current.Version);
        Assert.Single(await _store.GetHistoryAsync(ChangeEvent.TeamEntity, team.Id, 0, 10, CancellationToken.None));
    }

    [Fact]
    public async Task AnAnswerWithARequestIdLongerThanAKeyMayBeIsRememberedAndFound()
    {
        var requestId = new string('r', 4000);
        var team = NewTeam("Long Request Id");
        var now = DateTimeOffset.UtcNow;
        var write = Write() with { Response = new StoredResponse("apikey-0", requestId, "fingerprint", 201, "{}", "W/\"1\"", now) };

        Assert.True(await _store.CreateTeamAsync(team, write, CancellationToken.None));

        var found = await _store.FindResponseAsync("apikey-0", requestId, now.AddMinutes(-1), CancellationToken.None);
        Assert.Equal(requestId, found!.RequestId);
    }

    private static ProductTeam NewTeam(string name) =>
        new(Guid.NewGuid().ToString(), name, Unique.OdsCode(), EntityStatus.Active, DateTimeOffset.UtcNow, null, null, [], 1);

    private static WriteContext Write() => new(DateTimeOffset.UtcNow, null, null, "apikey-0");

    private async Task<int> FeedLengthAsync() => (await _client.GetAsync("/Events?limit=1000")).Json()["events"]!.AsArray().Count;
}
