using System.Globalization;

namespace Cpm.Api.Http;

/// <summary>Timestamps as Python's <c>datetime.isoformat()</c> writes an aware UTC datetime.</summary>
internal static class PythonTime
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    /// <summary>Python datetimes hold microseconds; anything finer would not survive a round trip.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % TicksPerMicrosecond), TimeSpan.Zero);
    }

    public static string Format(DateTimeOffset value)
    {
        var utc = Truncate(value);
        return utc.Ticks % TimeSpan.TicksPerSecond == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture);
    }

    /// <summary>Reads both our form and the existing service's form for deleted rows (a space instead of <c>T</c>).</summary>
    public static DateTimeOffset Parse(string text) =>
        DateTimeOffset.Parse(text.Replace(' ', 'T'), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();
}
