using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// Timestamps as Python's isoformat writes them, with the service's clock pinned. Each test sets
/// the clock with AdjustTime, which may go back, so the tests do not depend on their order.
/// </summary>
public abstract class TimestampTests(CpmService service)
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task TimestampsCarryMicrosecondsAndAnExplicitUtcOffset()
    {
        service.Clock!.AdjustTime(new DateTimeOffset(2025, 1, 30, 14, 30, 18, TimeSpan.Zero).AddTicks(1_916_437));

        var team = await _client.CreateTeamAsync();

        Assert.Equal("2025-01-30T14:30:18.191643+00:00", (string)team["created_on"]!);
    }

    [Fact]
    public async Task ZeroMicrosecondsAreOmitted()
    {
        service.Clock!.AdjustTime(new DateTimeOffset(2025, 2, 3, 9, 0, 0, TimeSpan.Zero));
        var team = await _client.CreateTeamAsync();

        var product = await _client.CreateProductAsync((string)team["id"]!);

        Assert.Equal("2025-02-03T09:00:00+00:00", (string)team["created_on"]!);
        Assert.Equal("2025-02-03T09:00:00+00:00", (string)product["created_on"]!);
    }

    [Fact]
    public async Task SubMicrosecondTicksAreTruncatedNotRounded()
    {
        service.Clock!.AdjustTime(new DateTimeOffset(2025, 2, 3, 9, 0, 0, TimeSpan.Zero).AddTicks(9_999_999));

        var team = await _client.CreateTeamAsync();

        Assert.Equal("2025-02-03T09:00:00.999999+00:00", (string)team["created_on"]!);
    }
}

public sealed class SqliteTimestampTests(SqlitePinnedClockService service) : TimestampTests(service), IClassFixture<SqlitePinnedClockService>;
