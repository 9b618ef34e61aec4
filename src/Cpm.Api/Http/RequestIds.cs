namespace Cpm.Api.Http;

/// <summary>
/// The NHS request and correlation ids. Values that are printable ASCII of at most
/// <see cref="MaxLength"/> characters are echoed and logged as sent; any other value is refused,
/// since it could not travel back in a response header.
/// </summary>
internal static class RequestIds
{
    public const string RequestIdHeader = "X-Request-Id";
    public const string CorrelationIdHeader = "X-Correlation-Id";
    public const int MaxLength = 200;

    public static bool IsValid(string value) => value.Length <= MaxLength && !value.AsSpan().ContainsAnyExceptInRange(' ', '~');

    /// <summary>The header's value, or null when it is absent.</summary>
    public static string? Read(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var value) ? value.ToString() : null;

    public static string InvalidMessage(string name) => $"{name}: must be printable ASCII of at most {MaxLength} characters";

    /// <summary>Refuses ids that are not valid; runs after the api key and version checks.</summary>
    public static TBuilder RequireValidRequestIds<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
        {
            foreach (var name in (ReadOnlySpan<string>)[RequestIdHeader, CorrelationIdHeader])
            {
                if (Read(context.HttpContext.Request, name) is { } value && !IsValid(value))
                {
                    return ApiResults.Refuse(ErrorCodes.ValidationError, InvalidMessage(name));
                }
            }

            return next(context);
        });
}
