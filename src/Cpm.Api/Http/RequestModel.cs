using System.Globalization;
using System.Numerics;
using System.Text;

namespace Cpm.Api.Http;

/// <summary>
/// Collects the errors of one request model the way the existing service (pydantic) reports
/// them: <c>&lt;Model&gt;.&lt;field path&gt;: &lt;message&gt;</c>, all at once, in the order added.
/// Callers add declared fields in declaration order, then <see cref="RejectUnknownFields"/>,
/// then whole-model rules.
/// </summary>
internal sealed class ModelErrors(string model)
{
    public const string FieldRequired = "field required";
    public const string NoneNotAllowed = "none is not an allowed value";
    public const string StrTypeExpected = "str type expected";
    public const string NotAList = "value is not a valid list";
    public const string NotADict = "value is not a valid dict";
    public const string ExtraField = "extra fields not permitted";
    public const string Blank = "ensure this value has at least 1 characters";
    public const int MaxNameLength = 255;

    private readonly List<ApiError> _errors = [];

    public string Model => model;

    public bool HasErrors => _errors.Count > 0;

    public IReadOnlyList<ApiError> Errors => _errors;

    public void Missing(string path) =>
        _errors.Add(new ApiError(ErrorCodes.MissingValue, $"{model}.{path}: {FieldRequired}"));

    public void Invalid(string path, string message) =>
        _errors.Add(new ApiError(ErrorCodes.ValidationError, $"{model}.{path}: {message}"));

    public void RejectUnknownFields(IEnumerable<string> given, params string[] declared)
    {
        foreach (var name in given.Where(name => !declared.Contains(name)).Order(StringComparer.Ordinal))
        {
            Invalid(name, ExtraField);
        }
    }

    /// <summary>
    /// A required string field, coerced as pydantic does (numbers and booleans become their
    /// Python text). Returns null, with the error recorded, when there is no usable string.
    /// </summary>
    public string? RequiredString(IReadOnlyDictionary<string, object?> body, string field, string? path = null)
    {
        path ??= field;
        if (!body.TryGetValue(field, out var value))
        {
            Missing(path);
            return null;
        }

        var text = AsPythonString(value, out var problem);
        if (problem is not null)
        {
            Invalid(path, problem);
        }

        return text;
    }

    /// <summary>
    /// A required name: a string, not blank, at most 255 characters, matching the contract's pattern
    /// (checked with <paramref name="matches"/>, reported with <paramref name="pattern"/>), and free of
    /// control and formatting characters. One error per field, as pydantic gives.
    /// </summary>
    public string? RequiredName(IReadOnlyDictionary<string, object?> body, string field, Func<string, bool> matches, string pattern)
    {
        var name = RequiredString(body, field);
        if (name is null)
        {
            return null;
        }

        if (PythonText.IsBlank(name))
        {
            Invalid(field, Blank);
            return null;
        }

        if (name.Length > MaxNameLength && PythonText.CodePoints(name) > MaxNameLength)
        {
            Invalid(field, $"ensure this value has at most {MaxNameLength} characters");
            return null;
        }

        if (!matches(name))
        {
            Invalid(field, $"string does not match regex \"{pattern}\"");
            return null;
        }

        if (PythonText.HasControlOrFormatCharacters(name))
        {
            Invalid(field, "string contains control or formatting characters");
            return null;
        }

        return name;
    }

    /// <summary>pydantic's <c>str</c> validator: the text, or null with the reason it was refused.</summary>
    public static string? AsPythonString(object? value, out string? problem)
    {
        problem = null;
        switch (value)
        {
            case string text:
                return text;
            case bool flag:
                return flag ? "True" : "False";
            case BigInteger integer:
                return integer.ToString(CultureInfo.InvariantCulture);
            case double number:
                return PythonFloat.Repr(number);
            case null:
                problem = NoneNotAllowed;
                return null;
            default:
                problem = StrTypeExpected;
                return null;
        }
    }
}

/// <summary>Whitespace as Python's <c>str.isspace()</c> sees it, which is what the rules were written against.</summary>
internal static class PythonText
{
    public static bool IsSpace(char c) => c is ' ' or (>= '\t' and <= '\r') or (>= '\x1c' and <= '\x1f')
        or '\x85' or '\xa0' or '\u1680' or (>= '\u2000' and <= '\u200a') or '\u2028' or '\u2029'
        or '\u202f' or '\u205f' or '\u3000';

    public static bool IsBlank(string value) => value.All(IsSpace);

    /// <summary><c>^\S+( \S+)*$</c>: words of non-space characters, one space between them.</summary>
    public static bool IsSingleSpacedWords(string value)
    {
        if (value.Length == 0 || value[0] == ' ' || value[^1] == ' ')
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == ' ' ? value[i + 1] == ' ' : IsSpace(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The length as Python counts it: code points, so an astral character is one.</summary>
    public static int CodePoints(string value) => value.EnumerateRunes().Count();

    /// <summary>Unicode categories Cc and Cf: control characters, zero-width and bidirectional controls.</summary>
    public static bool HasControlOrFormatCharacters(string value) =>
        value.EnumerateRunes().Any(rune => Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format);

    /// <summary><c>^[ -~]+$</c>: printable ASCII.</summary>
    public static bool IsPrintableAscii(string value) => value.Length > 0 && value.All(c => c is >= ' ' and <= '~');
}

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
