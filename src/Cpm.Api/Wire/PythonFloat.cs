using System.Globalization;

namespace Cpm.Api.Wire;

/// <summary>Python's <c>repr(float)</c>, for numbers sent where a string is due.</summary>
internal static class PythonFloat
{
    public static string Repr(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        // .NET's "R" gives the same shortest round-trip digits as Python; only the layout differs.
        var roundTrip = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = roundTrip.StartsWith('-') || (value == 0 && double.IsNegative(value));
        var (digits, pointPosition) = Decompose(roundTrip.TrimStart('-'));
        string body;
        if (pointPosition is < -3 or > 16)
        {
            var exponent = pointPosition - 1;
            var mantissa = digits.Length == 1 ? digits : $"{digits[0]}.{digits[1..]}";
            body = $"{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }
        else if (pointPosition <= 0)
        {
            body = $"0.{new string('0', -pointPosition)}{digits}";
        }
        else if (pointPosition >= digits.Length)
        {
            body = $"{digits}{new string('0', pointPosition - digits.Length)}.0";
        }
        else
        {
            body = $"{digits[..pointPosition]}.{digits[pointPosition..]}";
        }

        return negative ? "-" + body : body;
    }

    /// <summary>Significant digits and where the decimal point falls (value = 0.digits × 10^point).</summary>
    private static (string Digits, int Point) Decompose(string text)
    {
        var exponent = 0;
        var e = text.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        var dot = text.IndexOf('.');
        var integerPart = dot >= 0 ? text[..dot] : text;
        var all = integerPart + (dot >= 0 ? text[(dot + 1)..] : "");
        var point = integerPart.Length + exponent;
        var trimmed = all.TrimStart('0');
        point -= all.Length - trimmed.Length;
        trimmed = trimmed.TrimEnd('0');
        return trimmed.Length == 0 ? ("0", 1) : (trimmed, point);
    }
}
