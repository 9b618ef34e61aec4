using Cpm.Api.Http;

namespace Cpm.Api.Products;

/// <summary><c>SearchProductQueryParams</c> and the nested shape search results take.</summary>
internal static class ProductSearch
{
    public const string Model = "SearchProductQueryParams";
    public const string ProductTeamId = "product_team_id";
    public const string OrganisationCode = "organisation_code";

    /// <summary>The one parameter given, its value and the page asked for, or the errors to answer with.</summary>
    public static (string Name, string Value, PageRequest? Page)? Validate(IReadOnlyDictionary<string, string> query, out IReadOnlyList<ApiError> errors)
    {
        var model = new ModelErrors(Model);
        var given = new[] { ProductTeamId, OrganisationCode }.Where(query.ContainsKey).ToList();
        var page = Paging.Read(model, query, given.Count == 1 ? Scope(given[0], query[given[0]]) : "");
        model.RejectUnknownFields(query.Keys, ProductTeamId, OrganisationCode, Paging.LimitField, Paging.CursorField);
        if (given.Count != 1)
        {
            model.Invalid("__root__", $"Please provide exactly one valid query parameter: ('{ProductTeamId}', '{OrganisationCode}').");
        }

        Paging.RequireLimitWithCursor(model, query);
        errors = model.Errors;
        return model.HasErrors ? null : (given[0], query[given[0]], page);
    }

    /// <summary>What a cursor is bound to: the same search, and no other.</summary>
    public static string Scope(string parameter, string value) => $"products:{parameter}:{value}";

    /// <summary>
    /// The first <paramref name="count"/> products, grouped by organisation and team. They come in
    /// organisation, team id, product id order, so each group is one run of neighbours.
    /// </summary>
    public static PythonJsonWriter WriteResults(PythonJsonWriter json, IReadOnlyList<Product> products, int count)
    {
        json.Key("results").StartArray();
        for (var i = 0; i < count;)
        {
            var organisation = products[i].OdsCode;
            json.StartObject().Property("org_code", organisation).Key("product_teams").StartArray();
            while (i < count && products[i].OdsCode == organisation)
            {
                var first = products[i];
                json.StartObject()
                    .Property("product_team_id", first.TeamAlias)
                    .Property("cpm_product_team_id", first.TeamId)
                    .Key("products").StartArray();
                for (; i < count && products[i].OdsCode == organisation && products[i].TeamId == first.TeamId; i++)
                {
                    products[i].WriteTo(json);
                }

                json.EndArray().EndObject();
            }

            json.EndArray().EndObject();
        }

        return json.EndArray();
    }
}
