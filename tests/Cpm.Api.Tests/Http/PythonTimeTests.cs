using System.Globalization;
using Cpm.Api.Http;

namespace Cpm.Api.Tests.Http;

/// <summary>
/// The timestamp fast paths against the runtime's general formatter and parser, which they replace
/// on the hot path and must agree with to the byte.
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
    public void FormatWritesWhatTheGeneralFormatterWrites(string text)
    {
        var instant = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

        Assert.Equal(GeneralFormat(instant), PythonTime.Format(instant));
        Assert.Equal(text, PythonTime.Format(instant));
    }

    [Fact]
    public void FormatAgreesWithTheGeneralFormatterOnRandomInstantsAndOffsets()
    {
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var ticks = random.NextInt64(DateTimeOffset.MinValue.Ticks + TimeSpan.TicksPerDay, DateTimeOffset.MaxValue.Ticks - TimeSpan.TicksPerDay);
            var offset = TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60 + 1));
            var instant = new DateTimeOffset(ticks, offset);
            Assert.Equal(GeneralFormat(instant), PythonTime.Format(instant));
        }
    }

    [Theory]
    [MemberData(nameof(Instants))]
    [InlineData("2025-02-03 09:00:00.123456+00:00")]
    [InlineData("2025-02-03 09:00:00+00:00")]
    [InlineData("2025-02-03T09:00:00.123+00:00")]
    [InlineData("2025-02-03T10:00:00.123456+01:00")]
    [InlineData("2025-02-03T09:00:00Z")]
    public void ParseReadsWhatTheGeneralParserReads(string text)
    {
        var parsed = PythonTime.Parse(text);

        Assert.Equal(GeneralParse(text), parsed);
        Assert.Equal(TimeSpan.Zero, parsed.Offset);
    }

    [Theory]
    [InlineData("2025-02-30T09:00:00+00:00")]
    [InlineData("2025-13-03T09:00:00+00:00")]
    [InlineData("2025-02-03T24:00:00+00:00")]
    [InlineData("2025-02-03T09:60:00+00:00")]
    [InlineData("2025-02-03T09:00:0x+00:00")]
    [InlineData("2025-02-03T09:00:00.12345x+00:00")]
    public void ParseRejectsWhatTheGeneralParserRejects(string text) =>
        Assert.Throws<FormatException>(() => PythonTime.Parse(text));

    private static string GeneralFormat(DateTimeOffset value)
    {
        var utc = PythonTime.Truncate(value);
        return utc.Ticks % TimeSpan.TicksPerSecond == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture);
    }

    private static DateTimeOffset GeneralParse(string text) =>
        DateTimeOffset.Parse(text.Replace(' ', 'T'), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();
}
