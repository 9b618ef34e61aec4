using System.Net;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// What expires with time, on the service's clock moved by the test: idempotent POSTs replay for
/// 24 hours, and a code ODS confirmed is trusted for <c>Ods:KnownGoodCacheDuration</c>. Each test
/// sets the clock first, so the tests do not depend on their order.
/// </summary>
public abstract class ClockTests(CpmService service)
{
    /// <summary>Shorter than the 5-minute default, so a test can tell the setting is read.</summary>
    public static readonly TimeSpan KnownGoodCacheDuration = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task AnIdempotentPostReplaysForTwentyFourHoursAndCreatesAgainAfterThem()
    {
        service.Clock!.AdjustTime(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        var requestId = Guid.NewGuid().ToString();
        Task<Reply> PostAsync() => _client.PostAsync($"/ProductTeam/{team}/Product", """{"name": "Replayed"}""", ("X-Request-Id", requestId));

        var first = await PostAsync();
        service.Clock.Advance(TimeSpan.FromHours(24) - Second);
        var replayed = await PostAsync();
        var productsWithinTheWindow = await ProductIdsAsync(team);
        service.Clock.Advance(2 * Second);
        var afterTheWindow = await PostAsync();

        first.AssertStatus(HttpStatusCode.Created);
        replayed.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(first.Body, replayed.Body);
        Assert.Equal([(string)first.Json()["id"]!], productsWithinTheWindow);
        afterTheWindow.AssertStatus(HttpStatusCode.Created);
        var second = (string)afterTheWindow.Json()["id"]!;
        Assert.NotEqual((string)first.Json()["id"]!, second);
        Assert.Equal("2025-03-02T08:00:01+00:00", (string)afterTheWindow.Json()["created_on"]!);
        Assert.Equal(new[] { (string)first.Json()["id"]!, second }.Order(StringComparer.Ordinal), await ProductIdsAsync(team));
    }

    [Fact]
    public async Task AKnownGoodOdsCodeIsAskedAgainOnceTheConfiguredCacheDurationHasPassed()
    {
        service.Clock!.AdjustTime(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));
        var ods = Unique.OdsCode();

        await _client.CreateTeamAsync(ods);
        service.Clock.Advance(KnownGoodCacheDuration - Second);
        await _client.CreateTeamAsync(ods);
        var callsWithinTheDuration = service.Ord.CallsFor(ods);
        service.Clock.Advance(2 * Second);
        await _client.CreateTeamAsync(ods);
        var callsAfterIt = service.Ord.CallsFor(ods);
        service.Clock.Advance(KnownGoodCacheDuration - Second);
        await _client.CreateTeamAsync(ods);

        Assert.Equal(1, callsWithinTheDuration);
        Assert.Equal(2, callsAfterIt);
        Assert.Equal(2, service.Ord.CallsFor(ods));
    }

    private async Task<List<string>> ProductIdsAsync(string team)
    {
        var search = (await _client.GetAsync($"/Product?product_team_id={team}")).Json();
        return [.. search["results"]![0]!["product_teams"]![0]!["products"]!.AsArray().Select(product => (string)product!["id"]!)];
    }
}

/// <summary>SQLite on a clock the test moves, with the known-good ODS cache shortened.</summary>
public sealed class SqliteMovableClockService : SqliteService
{
    public SqliteMovableClockService()
    {
        Clock = new FakeTimeProvider();
        ExtraSettings["Ods:KnownGoodCacheDuration"] = ClockTests.KnownGoodCacheDuration.ToString();
    }
}

/// <summary>DynamoDB on a clock the test moves, with the known-good ODS cache shortened.</summary>
public sealed class DynamoDbMovableClockService : DynamoDbService
{
    public DynamoDbMovableClockService()
    {
        Clock = new FakeTimeProvider();
        ExtraSettings["Ods:KnownGoodCacheDuration"] = ClockTests.KnownGoodCacheDuration.ToString();
    }
}

public sealed class SqliteClockTests(SqliteMovableClockService service) : ClockTests(service), IClassFixture<SqliteMovableClockService>;
