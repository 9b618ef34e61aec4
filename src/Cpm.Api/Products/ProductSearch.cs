using Cpm.Api.Http;
using Cpm.Api.Wire;

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
    /// Writes <c>"results"</c>: products grouped by organisation and team. They arrive in
    /// organisation, team id, product id order, so each group is one run of neighbours, and a
    /// group is closed as soon as the next product is outside it.
    /// </summary>
    internal sealed class ResultsWriter
    {
        private readonly PythonJsonWriter _json;
        private Product? _previous;

        public ResultsWriter(PythonJsonWriter json)
        {
            _json = json;
            json.Key("results").StartArray();
        }

        public void Add(Product product)
        {
            var sameOrganisation = _previous?.OdsCode == product.OdsCode;
            var sameTeam = sameOrganisation && _previous!.TeamId == product.TeamId;
            if (_previous is not null && !sameTeam)
            {
                _json.EndArray().EndObject();
            }

            if (_previous is not null && !sameOrganisation)
            {
                _json.EndArray().EndObject();
            }

            if (!sameOrganisation)
            {
                _json.StartObject().Property("org_code", product.OdsCode).Key("product_teams").StartArray();
            }

            if (!sameTeam)
            {
                _json.StartObject()
                    .Property("product_team_id", product.TeamAlias)
                    .Property("cpm_product_team_id", product.TeamId)
                    .Key("products").StartArray();
            }

            product.WriteTo(_json);
            _previous = product;
        }

        public PythonJsonWriter End()
        {
            if (_previous is not null)
            {
                _json.EndArray().EndObject().EndArray().EndObject();
            }

            return _json.EndArray();
        }
    }
}
