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
