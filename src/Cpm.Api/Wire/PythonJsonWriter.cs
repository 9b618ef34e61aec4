using System.Buffers;
using System.Globalization;
using System.Text;

namespace Cpm.Api.Wire;

/// <summary>
/// Writes JSON the way Python's <c>json.dumps</c> does with its defaults, which existing CPM
/// clients compare byte for byte: <c>", "</c> and <c>": "</c> separators, non-ASCII escaped as
/// lowercase <c>\uXXXX</c>, and <c>/ &lt; &gt; &amp; '</c> left alone.
/// </summary>
internal sealed class PythonJsonWriter
{
    // Printable ASCII but the quote and the backslash: written as they are.
    private static readonly SearchValues<char> Plain = SearchValues.Create(
        Enumerable.Range(' ', '~' - ' ' + 1).Select(c => (char)c).Where(c => c is not ('"' or '\\')).ToArray());

    private readonly StringBuilder _text = new(256);
    private readonly Stack<bool> _hasItems = new();
    private bool _afterKey;

    public PythonJsonWriter StartObject() => Open('{');

    public PythonJsonWriter EndObject() => Close('}');

    public PythonJsonWriter StartArray() => Open('[');

    public PythonJsonWriter EndArray() => Close(']');

    public PythonJsonWriter Key(string name)
    {
        Separate();
        AppendString(_text, name);
        _text.Append(": ");
        _afterKey = true;
        return this;
    }

    public PythonJsonWriter String(string? value)
    {
        Separate();
        if (value is null)
        {
            _text.Append("null");
        }
        else
        {
            AppendString(_text, value);
        }

        return this;
    }

    public PythonJsonWriter Number(long value)
    {
        Separate();
        _text.Append(value.ToString(CultureInfo.InvariantCulture));
        return this;
    }

    public PythonJsonWriter Boolean(bool value)
    {
        Separate();
        _text.Append(value ? "true" : "false");
        return this;
    }

    public PythonJsonWriter Null() => String(null);

    public PythonJsonWriter Property(string name, string? value) => Key(name).String(value);

    public PythonJsonWriter Property(string name, long value) => Key(name).Number(value);

    public PythonJsonWriter Timestamp(string name, DateTimeOffset? value) =>
        Key(name).String(value is { } at ? PythonTime.Format(at) : null);

    /// <summary>
    /// Any parsed JSON value (see <see cref="PythonJsonParser"/>); with <paramref name="sortKeys"/>
    /// a canonical form, so two bodies equal as parsed JSON write the same text.
    /// </summary>
    public PythonJsonWriter Value(object? value, bool sortKeys = false)
    {
        switch (value)
        {
            case JsonDict dict:
                StartObject();
                foreach (var (key, item) in sortKeys ? dict.OrderBy(pair => pair.Key, StringComparer.Ordinal) : dict.AsEnumerable())
                {
                    Key(key).Value(item, sortKeys);
                }

                return EndObject();
            case List<object?> list:
                StartArray();
                foreach (var item in list)
                {
                    Value(item, sortKeys);
                }

                return EndArray();
            case bool flag:
                return Boolean(flag);
            case string text:
                return String(text);
            case null:
                return Null();
            default:
                return Raw(Convert.ToString(value, CultureInfo.InvariantCulture)!);
        }
    }

    /// <summary>Appends an already serialised value (for example a stored fragment).</summary>
    public PythonJsonWriter Raw(string json)
    {
        Separate();
        _text.Append(json);
        return this;
    }

    /// <summary>Characters written so far (and bytes: the text is ASCII).</summary>
    public int Length => _text.Length;

    public override string ToString() => _text.ToString();

    /// <summary>The bytes written so far, cleared from the writer, which carries on where it was.</summary>
    public byte[] TakeUtf8Bytes()
    {
        var bytes = ToUtf8Bytes();
        _text.Clear();
        return bytes;
    }

    /// <summary>The text is ASCII (everything else is escaped): one byte a character, encoded straight from the builder.</summary>
    public byte[] ToUtf8Bytes()
    {
        var bytes = new byte[_text.Length];
        var written = 0;
        foreach (var chunk in _text.GetChunks())
        {
            written += Encoding.ASCII.GetBytes(chunk.Span, bytes.AsSpan(written));
        }

        // Only a raw fragment could hold a surrogate pair, which the encoder replaces with one '?'.
        return written == bytes.Length ? bytes : bytes[..written];
    }

    private PythonJsonWriter Open(char bracket)
    {
        Separate();
        _text.Append(bracket);
        _hasItems.Push(false);
        return this;
    }

    private PythonJsonWriter Close(char bracket)
    {
        _hasItems.Pop();
        _text.Append(bracket);
        return this;
    }

    private void Separate()
    {
        if (_afterKey)
        {
            _afterKey = false;
            return;
        }

        if (_hasItems.Count == 0)
        {
            return;
        }

        if (_hasItems.Peek())
        {
            _text.Append(", ");
        }
        else
        {
            _hasItems.Pop();
            _hasItems.Push(true);
        }
    }

    private static void AppendString(StringBuilder text, string value)
    {
        text.Append('"');
        var rest = value.AsSpan();
        while (rest.IndexOfAnyExcept(Plain) is var escape and >= 0)
        {
            text.Append(rest[..escape]);
            AppendEscaped(text, rest[escape]);
            rest = rest[(escape + 1)..];
        }

        text.Append(rest).Append('"');
    }

    private static void AppendEscaped(StringBuilder text, char c)
    {
        switch (c)
        {
            case '"': text.Append("\\\""); break;
            case '\\': text.Append("\\\\"); break;
            case '\n': text.Append("\\n"); break;
            case '\r': text.Append("\\r"); break;
            case '\t': text.Append("\\t"); break;
            case '\b': text.Append("\\b"); break;
            case '\f': text.Append("\\f"); break;
            default:
                // Control and non-ASCII characters. UTF-16 code units are exactly Python's surrogate-pair
                // escapes for astral characters.
                text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                break;
        }
    }
}
