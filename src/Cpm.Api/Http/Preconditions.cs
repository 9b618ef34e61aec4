namespace Cpm.Api.Http;

/// <summary><c>If-Match</c> against an entity's weak ETag <c>W/"version"</c>.</summary>
internal static class Preconditions
{
    public const string Required = "If-Match header is required";
    public const string Failed = "If-Match does not match the current version";

    /// <summary>Null when the request may go on; otherwise the 428 or 412 to answer.</summary>
    public static IResult? Check(HttpRequest request, long currentVersion, string currentETag, HttpResponse response)
    {
        var header = request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return ApiResults.Error(ErrorCodes.PreconditionRequired, Required);
        }

        var candidates = header.SelectMany(value => (value ?? "").Split(',')).Select(tag => tag.Trim());
        if (candidates.Any(tag => tag == "*" || VersionOf(tag) == currentVersion))
        {
            return null;
        }

        response.Headers.ETag = currentETag;
        return ApiResults.Error(ErrorCodes.PreconditionFailed, Failed);
    }

    /// <summary>
    /// A conditional write lost to another write after If-Match passed: 412 with the ETag now
    /// current, or <paramref name="notFound"/> when the entity is gone.
    /// </summary>
    public static IResult LostRace(HttpResponse response, string? currentETag, IResult notFound)
    {
        if (currentETag is null)
        {
            return notFound;
        }

        response.Headers.ETag = currentETag;
        return ApiResults.Error(ErrorCodes.PreconditionFailed, Failed);
    }

    /// <summary>Weak comparison: <c>W/"n"</c> and <c>"n"</c> name the same version.</summary>
    private static long? VersionOf(string tag)
    {
        if (tag.StartsWith("W/", StringComparison.Ordinal))
        {
            tag = tag[2..];
        }

        return tag.Length > 2 && tag[0] == '"' && tag[^1] == '"' && long.TryParse(tag.AsSpan(1, tag.Length - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
            ? version
            : null;
    }
}
