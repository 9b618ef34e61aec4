using System.Globalization;
using System.Text;

namespace Cpm.Api.Wire;

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
