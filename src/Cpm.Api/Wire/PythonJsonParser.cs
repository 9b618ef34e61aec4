using System.Globalization;
using System.Numerics;

namespace Cpm.Api.Wire;

/// <summary>
/// Parses a request body with the semantics of Python's <c>json.loads</c>, so that the values a
/// client sends are interpreted, and rejected, as the existing service does. Objects become
/// <see cref="JsonDict"/> (a repeated key keeps its first position and takes the last value),
/// arrays <c>List&lt;object?&gt;</c>, integers <see cref="BigInteger"/>, other numbers
/// <see cref="double"/> (NaN and Infinity included), and strings, booleans and null as themselves.
/// </summary>
internal sealed class PythonJsonParser
{
    // Python refuses to convert integers longer than this; so do we, before doing the work.
    private const int MaxIntegerDigits = 4300;
    private const int MaxDepth = 200;

    private readonly string _text;
    private int _depth;

    private PythonJsonParser(string text) => _text = text;

    public static object? Parse(string text)
    {
        var parser = new PythonJsonParser(text);
        if (text.Length > 0 && text[0] == '\ufeff')
        {
            throw parser.Error(0);
        }

        var index = parser.SkipWhitespace(0);
        var value = parser.ParseValue(ref index);
        index = parser.SkipWhitespace(index);
        return index == text.Length ? value : throw parser.Error(index);
    }

    private object? ParseValue(ref int index)
    {
        if (index >= _text.Length)
        {
            throw Error(index);
        }

        switch (_text[index])
        {
            case '"':
                return ParseString(ref index);
            case '{':
                return ParseObject(ref index);
            case '[':
                return ParseArray(ref index);
            case 'n' when Matches(index, "null"):
                index += 4;
                return null;
            case 't' when Matches(index, "true"):
                index += 4;
                return true;
            case 'f' when Matches(index, "false"):
                index += 5;
                return false;
            case 'N' when Matches(index, "NaN"):
                index += 3;
                return double.NaN;
            case 'I' when Matches(index, "Infinity"):
                index += 8;
                return double.PositiveInfinity;
            case '-' when Matches(index, "-Infinity"):
                index += 9;
                return double.NegativeInfinity;
            default:
                return ParseNumber(ref index);
        }
    }

    private JsonDict ParseObject(ref int index)
    {
        EnterNested(index);
        var result = new JsonDict();
        var i = SkipWhitespace(index + 1);
        if (i < _text.Length && _text[i] == '}')
        {
            index = i + 1;
            _depth--;
            return result;
        }

        while (true)
        {
            if (i >= _text.Length || _text[i] != '"')
            {
                throw Error(i);
            }

            var key = ParseString(ref i);
            i = SkipWhitespace(i);
            if (i >= _text.Length || _text[i] != ':')
            {
                throw Error(i);
            }

            i = SkipWhitespace(i + 1);
            result[key] = ParseValue(ref i);
            i = SkipWhitespace(i);
            if (i < _text.Length && _text[i] == '}')
            {
                index = i + 1;
                _depth--;
                return result;
            }

            if (i >= _text.Length || _text[i] != ',')
            {
                throw Error(i);
            }

            i = SkipWhitespace(i + 1);
        }
    }

    private List<object?> ParseArray(ref int index)
    {
        EnterNested(index);
        var result = new List<object?>();
        var i = SkipWhitespace(index + 1);
        if (i < _text.Length && _text[i] == ']')
        {
            index = i + 1;
            _depth--;
            return result;
        }

        while (true)
        {
            result.Add(ParseValue(ref i));
            i = SkipWhitespace(i);
            if (i < _text.Length && _text[i] == ']')
            {
                index = i + 1;
                _depth--;
                return result;
            }

            if (i >= _text.Length || _text[i] != ',')
            {
                throw Error(i);
            }

            i = SkipWhitespace(i + 1);
        }
    }

    private string ParseString(ref int index)
    {
        var start = index;
        var text = new System.Text.StringBuilder();
        var i = index + 1;
        while (true)
        {
            if (i >= _text.Length)
            {
                throw Error(start);
            }

            var c = _text[i];
            if (c == '"')
            {
                index = i + 1;
                return text.ToString();
            }

            if (c < ' ')
            {
                throw Error(i);
            }

            if (c != '\\')
            {
                if (char.IsSurrogate(c) && !IsPairAt(_text, i, c))
                {
                    throw Error(i);
                }

                text.Append(c);
                i++;
                continue;
            }

            if (i + 1 >= _text.Length)
            {
                throw Error(start);
            }

            var escape = _text[i + 1];
            if (escape != 'u')
            {
                text.Append(escape switch
                {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'b' => '\b',
                    'f' => '\f',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    _ => throw Error(i),
                });
                i += 2;
                continue;
            }

            var unit = ReadHex4(i + 2, i + 1);
            i += 6;
            if (char.IsHighSurrogate(unit) && i + 5 < _text.Length && _text[i] == '\\' && _text[i + 1] == 'u')
            {
                var low = ReadHex4(i + 2, i + 1);
                if (char.IsLowSurrogate(low))
                {
                    text.Append(unit).Append(low);
                    i += 6;
                    continue;
                }
            }

            // Python accepts lone surrogates, but no store can keep them: refuse them here.
            if (char.IsSurrogate(unit))
            {
                throw Error(i - 6);
            }

            text.Append(unit);
        }
    }

    private char ReadHex4(int at, int errorIndex)
    {
        if (at + 4 > _text.Length)
        {
            throw Error(errorIndex);
        }

        return ushort.TryParse(_text.AsSpan(at, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var unit)
            ? (char)unit
            : throw Error(errorIndex);
    }

    private object ParseNumber(ref int index)
    {
        var start = index;
        var i = index;
        if (i < _text.Length && _text[i] == '-')
        {
            i++;
        }

        if (i < _text.Length && _text[i] is >= '1' and <= '9')
        {
            while (i < _text.Length && char.IsAsciiDigit(_text[i]))
            {
                i++;
            }
        }
        else if (i < _text.Length && _text[i] == '0')
        {
            i++;
        }
        else
        {
            throw Error(start);
        }

        var isFloat = false;
        if (i + 1 < _text.Length && _text[i] == '.' && char.IsAsciiDigit(_text[i + 1]))
        {
            isFloat = true;
            i += 2;
            while (i < _text.Length && char.IsAsciiDigit(_text[i]))
            {
                i++;
            }
        }

        if (i < _text.Length && _text[i] is 'e' or 'E')
        {
            var exponent = i + 1;
            if (exponent < _text.Length && _text[exponent] is '+' or '-')
            {
                exponent++;
            }

            var digits = exponent;
            while (digits < _text.Length && char.IsAsciiDigit(_text[digits]))
            {
                digits++;
            }

            if (digits > exponent)
            {
                isFloat = true;
                i = digits;
            }
        }

        var literal = _text.AsSpan(start, i - start);
        index = i;
        if (isFloat)
        {
            return double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        if (literal.Length > MaxIntegerDigits)
        {
            throw Error(start);
        }

        // Most integers fit a long, which parses many times faster than BigInteger.
        return long.TryParse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var small)
            ? new BigInteger(small)
            : BigInteger.Parse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    private void EnterNested(int index)
    {
        // Python would overflow its stack on deep nesting; we answer a clear 400 instead.
        if (++_depth > MaxDepth)
        {
            throw Error(index);
        }
    }

    private bool Matches(int index, string literal) =>
        string.CompareOrdinal(_text, index, literal, 0, literal.Length) == 0;

    private int SkipWhitespace(int index)
    {
        while (index < _text.Length && _text[index] is ' ' or '\t' or '\n' or '\r')
        {
            index++;
        }

        return index;
    }

    private static bool IsPairAt(string text, int i, char c) =>
        char.IsHighSurrogate(c) ? i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])
            : i > 0 && char.IsHighSurrogate(text[i - 1]);

    /// <summary>Positions as Python reports them: in code points, with line and column from the last newline.</summary>
    private InvalidJsonException Error(int utf16Index)
    {
        var position = 0;
        var lastNewline = -1;
        var line = 1;
        for (var i = 0; i < utf16Index && i < _text.Length; i++)
        {
            if (char.IsLowSurrogate(_text[i]) && i > 0 && char.IsHighSurrogate(_text[i - 1]))
            {
                continue;
            }

            if (_text[i] == '\n')
            {
                line++;
                lastNewline = position;
            }

            position++;
        }

        return new InvalidJsonException(line, position - lastNewline, position);
    }
}

internal sealed class InvalidJsonException(int line, int column, int position)
    : Exception($"line {line} column {column} (char {position})");

/// <summary>A JSON object as Python's dict holds it: insertion order, last value wins.</summary>
internal sealed class JsonDict : OrderedDictionary<string, object?>
{
    public JsonDict()
        : base(StringComparer.Ordinal)
    {
    }
}
