using System.Globalization;

namespace Cpm.Api.Wire;

/// <summary>Timestamps as Python's <c>datetime.isoformat()</c> writes an aware UTC datetime.</summary>
internal static class PythonTime
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    // "2025-01-30T14:30:18+00:00" and "2025-01-30T14:30:18.191643+00:00".
    private const int WholeSecondLength = 25;
    private const int MicrosecondLength = 32;
    private const string UtcOffset = "+00:00";

    /// <summary>Python datetimes hold microseconds; anything finer would not survive a round trip.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % TicksPerMicrosecond), TimeSpan.Zero);
    }

    public static string Format(DateTimeOffset value)
    {
        // The round-trip format ("O", yyyy-MM-ddTHH:mm:ss.fffffff+00:00) is the runtime's fast path; its
        // seventh fraction digit is always 0 after truncation, and Python leaves out a zero fraction.
        var utc = Truncate(value);
        Span<char> text = stackalloc char[33];
        utc.TryFormat(text, out _, "O", CultureInfo.InvariantCulture);
        var length = utc.Ticks % TimeSpan.TicksPerSecond == 0 ? WholeSecondLength : MicrosecondLength;
        UtcOffset.CopyTo(text[(length - UtcOffset.Length)..]);
        return new string(text[..length]);
    }

    /// <summary>Reads both our form and the existing service's form for deleted rows (a space instead of <c>T</c>).</summary>
    public static DateTimeOffset Parse(string text) =>
        TryParseExact(text) ?? DateTimeOffset.Parse(text.Replace(' ', 'T'), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();

    /// <summary>The two forms this service and the existing one write, read without the general parser; null for anything else.</summary>
    private static DateTimeOffset? TryParseExact(string text)
    {
        if (text.Length is not (WholeSecondLength or MicrosecondLength)
            || text[4] != '-' || text[7] != '-' || text[10] is not ('T' or ' ') || text[13] != ':' || text[16] != ':'
            || !text.EndsWith(UtcOffset, StringComparison.Ordinal)
            || (text.Length == MicrosecondLength && text[19] != '.'))
        {
            return null;
        }

        if (Digits(text, 0, 4) is not (>= 1 and var year) || Digits(text, 5, 2) is not (>= 1 and <= 12 and var month)
            || Digits(text, 8, 2) is not (>= 1 and var day) || day > DateTime.DaysInMonth(year, month)
            || Digits(text, 11, 2) is not (>= 0 and < 24 and var hour) || Digits(text, 14, 2) is not (>= 0 and < 60 and var minute)
            || Digits(text, 17, 2) is not (>= 0 and < 60 and var second))
        {
            return null;
        }

        var microsecond = text.Length == MicrosecondLength ? Digits(text, 20, 6) : 0;
        return microsecond < 0
            ? null
            : new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).AddTicks(microsecond * TicksPerMicrosecond);
    }

    /// <summary>The number written in <paramref name="count"/> ASCII digits, or -1.</summary>
    private static int Digits(string text, int start, int count)
    {
        var value = 0;
        foreach (var c in text.AsSpan(start, count))
        {
            if (!char.IsAsciiDigit(c))
            {
                return -1;
            }

            value = (value * 10) + (c - '0');
        }

        return value;
    }
}
