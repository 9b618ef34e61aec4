namespace Cpm.Api.Http;

internal static class QueryParameters
{
    /// <summary>
    /// Query parameters by exact (case-sensitive) name, as the existing service saw them; a
    /// repeated parameter keeps its last value.
    /// </summary>
    public static Dictionary<string, string> Read(HttpRequest request)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in request.Query)
        {
            parameters[name] = values.Count > 0 ? values[^1] ?? "" : "";
        }

        return parameters;
    }
}

internal static class IncludeDeleted
{
    public const string Field = "include_deleted";

    /// <summary><c>include_deleted</c>: absent or <c>false</c> (live only) or <c>true</c>; anything else is the 400 to answer.</summary>
    public static bool Read(HttpRequest request, string model, out IResult? error)
    {
        error = null;
        if (!QueryParameters.Read(request).TryGetValue(Field, out var value) || value == "false")
        {
            return false;
        }

        if (value == "true")
        {
            return true;
        }

        var errors = new ModelErrors(model);
        errors.Invalid(Field, "value could not be parsed to a boolean");
        error = ApiResults.Errors(errors.Errors);
        return false;
    }
}
