using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cpm.Api.Wire;

namespace Cpm.Api.Http;

/// <summary>A page to read: at most <see cref="Limit"/> items after the position a cursor carried.</summary>
internal sealed record PageRequest(int Limit, IReadOnlyList<string>? After);

/// <summary>
/// <c>limit</c> and <c>cursor</c> query parameters. A cursor is the position of the last item
/// returned, bound to the query it came from and checksummed, so a forged or foreign one is a 400.
/// </summary>
internal static class Paging
{
    public const string LimitField = "limit";
    public const string CursorField = "cursor";
    public const int MaxLimit = 1000;

    public static PageRequest? Read(ModelErrors model, IReadOnlyDictionary<string, string> query, string scope)
    {
        int? limit = null;
        if (query.TryGetValue(LimitField, out var limitText))
        {
            limit = ReadLimit(model, limitText, MaxLimit);
        }

        IReadOnlyList<string>? after = null;
        if (query.TryGetValue(CursorField, out var cursor))
        {
            after = Decode(cursor, scope);
            if (after is null)
            {
                model.Invalid(CursorField, "invalid cursor");
            }
        }

        return limit is { } pageSize ? new PageRequest(pageSize, after) : null;
    }

    /// <summary>The whole-model rule, added after field errors.</summary>
    public static void RequireLimitWithCursor(ModelErrors model, IReadOnlyDictionary<string, string> query)
    {
        if (query.ContainsKey(CursorField) && !query.ContainsKey(LimitField))
        {
            model.Invalid("__root__", "cursor requires limit");
        }
    }

    /// <summary>An integer from 1 to <paramref name="max"/>, as pydantic's <c>conint</c> reports it.</summary>
    public static int? ReadLimit(ModelErrors model, string text, int max)
    {
        if (VersionHeaderFilter.TryParsePythonInt(text) is not { } value)
        {
            model.Invalid(LimitField, "value is not a valid integer");
            return null;
        }

        if (value < 1)
        {
            model.Invalid(LimitField, "ensure this value is greater than or equal to 1");
            return null;
        }

        if (value > max)
        {
            model.Invalid(LimitField, $"ensure this value is less than or equal to {max}");
            return null;
        }

        return (int)value;
    }

    /// <summary>The cursor after <paramref name="position"/> in the walk named by <paramref name="scope"/>.</summary>
    public static string Encode(string scope, params string[] position)
    {
        var json = new PythonJsonWriter().StartArray().String(scope);
        foreach (var part in position)
        {
            json.String(part);
        }

        var payload = Base64Url(Encoding.UTF8.GetBytes(json.EndArray().ToString()));
        return $"{payload}.{Checksum(payload)}";
    }

    private static List<string>? Decode(string cursor, string scope)
    {
        var dot = cursor.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || cursor[(dot + 1)..] != Checksum(cursor[..dot]))
        {
            return null;
        }

        try
        {
            var bytes = Convert.FromBase64String(cursor[..dot].Replace('-', '+').Replace('_', '/').PadRight((dot + 3) / 4 * 4, '='));
            return PythonJsonParser.Parse(Encoding.UTF8.GetString(bytes)) is List<object?> parts
                && parts.All(part => part is string) && parts.Count > 1 && (string)parts[0]! == scope
                ? parts.Skip(1).Cast<string>().ToList()
                : null;
        }
        catch (Exception failure) when (failure is FormatException or InvalidJsonException)
        {
            return null;
        }
    }

    private static string Checksum(string payload) =>
        Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes("cpm-cursor-v1\n" + payload))[..12]);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string SequenceCursor(long sequence) => sequence.ToString(CultureInfo.InvariantCulture);
}
