using System.Globalization;
using Cpm.Api.Wire;

namespace Cpm.Api.Tests.Wire;

/// <summary>
/// The timestamp fast paths against literal expected values and an independent computation from
/// the instant's UTC calendar fields, never against production's own truncation.
/// </summary>
public sealed class PythonTimeTests
{
    public static TheoryData<string> Instants => new()
    {
        "2025-01-30T14:30:18.191643+00:00",
        "2025-01-30T14:30:18+00:00",
        "2025-01-30T14:30:18.000001+00:00",
        "2024-02-29T23:59:59.999999+00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59.999999+00:00",
    };

    [Theory]
    [MemberData(nameof(Instants))]
    public void FormatWritesPythonsIsoformatOfUtcInstants(string text)
    {
        var instant = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

        Assert.Equal(text, PythonTime.Format(instant));
    }

    [Theory]
    [InlineData("2025-01-30T15:30:18.1916437+01:00", "2025-01-30T14:30:18.191643+00:00")]
    [InlineData("2025-01-30T14:30:18.0000009+00:00", "2025-01-30T14:30:18+00:00")]
    [InlineData("2025-01-30T14:30:18.0000019+00:00", "2025-01-30T14:30:18.000001+00:00")]
    [InlineData("2025-01-01T00:30:00+05:30", "2024-12-31T19:00:00+00:00")]
    [InlineData("2025-02-28T10:00:00.5000000-14:00", "2025-03-01T00:00:00.500000+00:00")]
    [InlineData("9999-12-31T23:59:59.9999999+00:00", "9999-12-31T23:59:59.999999+00:00")]
    public void FormatConvertsToUtcAndDropsWhatIsFinerThanAMicrosecond(string roundTrip, string expected)
    {
        var instant = DateTimeOffset.Parse(roundTrip, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

        Assert.Equal(expected, PythonTime.Format(instant));
    }

    [Fact]
    public void FormatAgreesWithTheCalendarFieldsOnRandomInstantsAndOffsets()
    {
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var ticks = random.NextInt64(DateTimeOffset.MinValue.Ticks + TimeSpan.TicksPerDay, DateTimeOffset.MaxValue.Ticks - TimeSpan.TicksPerDay);
            var offset = TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60 + 1));
            var instant = new DateTimeOffset(ticks, offset);
            Assert.Equal(FromCalendarFields(instant), PythonTime.Format(instant));
        }
    }

    [Theory]
    [InlineData("2025-01-30T14:30:18.191643+00:00", "2025-01-30T14:30:18.1916430+00:00")]
    [InlineData("2025-01-30T14:30:18+00:00", "2025-01-30T14:30:18.0000000+00:00")]
    [InlineData("2024-02-29T23:59:59.999999+00:00", "2024-02-29T23:59:59.9999990+00:00")]
    [InlineData("0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00.0000000+00:00")]
    [InlineData("9999-12-31T23:59:59.999999+00:00", "9999-12-31T23:59:59.9999990+00:00")]
    [InlineData("2025-02-03 09:00:00.123456+00:00", "2025-02-03T09:00:00.1234560+00:00")]
    [InlineData("2025-02-03 09:00:00+00:00", "2025-02-03T09:00:00.0000000+00:00")]
    [InlineData("2025-02-03T09:00:00.123+00:00", "2025-02-03T09:00:00.1230000+00:00")]
    [InlineData("2025-02-03T10:00:00.123456+01:00", "2025-02-03T09:00:00.1234560+00:00")]
    [InlineData("2025-02-03T09:00:00Z", "2025-02-03T09:00:00.0000000+00:00")]
    public void ParseReadsTheInstantInUtc(string text, string expectedRoundTrip)
    {
        var parsed = PythonTime.Parse(text);

        Assert.Equal(expectedRoundTrip, parsed.ToString("O", CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2025-02-30T09:00:00+00:00")]
    [InlineData("2025-13-03T09:00:00+00:00")]
    [InlineData("2025-02-03T24:00:00+00:00")]
    [InlineData("2025-02-03T09:60:00+00:00")]
    [InlineData("2025-02-03T09:00:0x+00:00")]
    [InlineData("2025-02-03T09:00:00.12345x+00:00")]
    public void ParseRejectsImpossibleAndMalformedTimestamps(string text) =>
        Assert.Throws<FormatException>(() => PythonTime.Parse(text));

    /// <summary>Python's isoformat of the instant, built from its UTC calendar fields and whole microseconds.</summary>
    private static string FromCalendarFields(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        var microsecond = utc.Ticks % TimeSpan.TicksPerSecond / 10;
        var fraction = microsecond == 0 ? "" : "." + microsecond.ToString("D6", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"{utc.Year:D4}-{utc.Month:D2}-{utc.Day:D2}T{utc.Hour:D2}:{utc.Minute:D2}:{utc.Second:D2}{fraction}+00:00");
    }
}
