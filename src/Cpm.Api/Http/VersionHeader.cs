using System.Globalization;
using System.Numerics;
using Cpm.Api.Wire;

namespace Cpm.Api.Http;

/// <summary>
/// The <c>version</c> request header, read as the existing service reads it (Python's <c>int()</c>
/// behind pydantic), and the <c>Version</c> response header that reports what it resolved to.
/// </summary>
internal sealed class VersionHeaderFilter : IEndpointFilter
{
    public const string ResponseHeader = "Version";
    public const string Unresolved = "null";

    private const string RequestHeader = "version";
    private const string LatestText = "1";

    // pydantic refuses integer strings longer than Python's conversion limit.
    private const int MaxLength = 4300;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var headers = context.HttpContext.Request.Headers;
        if (!headers.TryGetValue(RequestHeader, out var values))
        {
            return ApiResults.Refuse(ErrorCodes.MissingValue, "Event.headers.version: field required");
        }

        if (TryParsePythonInt(values.ToString()) is not { } requested)
        {
            return ApiResults.Refuse(ErrorCodes.ValidationError, "Event.headers.version: value is not a valid integer");
        }

        if (requested < 1)
        {
            return ApiResults.Refuse(ErrorCodes.AccessDenied, $"Version not supported: {requested}");
        }

        // Any version from 1 up resolves to the highest available not above it: today that is always 1.
        context.HttpContext.Response.Headers[ResponseHeader] = LatestText;
        return next(context);
    }

    /// <summary>Python's <c>int(text)</c>: surrounding whitespace, a sign, digits with single underscores between them.</summary>
    internal static BigInteger? TryParsePythonInt(string text)
    {
        // What every client sends: plain digits, no sign, space or underscore.
        if (text.Length is > 0 and < 10 && !text.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            return int.Parse(text, CultureInfo.InvariantCulture);
        }

        if (text.Length > MaxLength)
        {
            return null;
        }

        var span = text.AsSpan();
        var start = 0;
        var end = span.Length;
        while (start < end && PythonText.IsSpace(span[start]))
        {
            start++;
        }

        while (end > start && PythonText.IsSpace(span[end - 1]))
        {
            end--;
        }

        span = span[start..end];
        var negative = false;
        if (span.Length > 0 && span[0] is '+' or '-')
        {
            negative = span[0] == '-';
            span = span[1..];
        }

        if (span.Length == 0 || !char.IsAsciiDigit(span[0]) || !char.IsAsciiDigit(span[^1]))
        {
            return null;
        }

        var digits = new System.Text.StringBuilder(span.Length);
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] == '_' && char.IsAsciiDigit(span[i - 1]) && char.IsAsciiDigit(span[i + 1]))
            {
                continue;
            }

            if (!char.IsAsciiDigit(span[i]))
            {
                return null;
            }

            digits.Append(span[i]);
        }

        var value = BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }
}

/// <summary>Marks endpoints behind <see cref="VersionHeaderFilter"/>, for the OpenAPI document.</summary>
internal sealed class VersionHeaderMetadata;

internal static class VersionHeaderExtensions
{
    public static RouteGroupBuilder RequireVersionHeader(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<VersionHeaderFilter>().WithMetadata(new VersionHeaderMetadata());
        return group;
    }
}
