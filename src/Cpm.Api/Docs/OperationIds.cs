namespace Cpm.Api.Docs;

/// <summary>
/// The operationId of every route: client generators and the Postman collection name their
/// methods after it, so it is stable wire contract. A route missing here fails the document.
/// </summary>
internal static class OperationIds
{
    private static readonly Dictionary<string, string> ByRoute = new(StringComparer.Ordinal)
    {
        ["GET /_ping"] = "ping",
        ["GET /_ready"] = "ready",
        ["GET /_status"] = "getStatus",
        ["POST /ProductTeam"] = "createProductTeam",
        ["GET /ProductTeam"] = "listProductTeams",
        ["GET /ProductTeam/{product_team_id}"] = "getProductTeam",
        ["PATCH /ProductTeam/{product_team_id}"] = "renameProductTeam",
        ["DELETE /ProductTeam/{product_team_id}"] = "deleteProductTeam",
        ["POST /ProductTeam/{product_team_id}/Restore"] = "restoreProductTeam",
        ["GET /ProductTeam/{product_team_id}/History"] = "getProductTeamHistory",
        ["POST /ProductTeam/{product_team_id}/Product"] = "createProduct",
        ["PATCH /ProductTeam/{product_team_id}/Product/{product_id}"] = "renameProduct",
        ["DELETE /ProductTeam/{product_team_id}/Product/{product_id}"] = "deleteProduct",
        ["POST /ProductTeam/{product_team_id}/Product/{product_id}/Restore"] = "restoreProduct",
        ["GET /Product"] = "searchProducts",
        ["GET /Product/{product_id}"] = "getProduct",
        ["GET /Product/{product_id}/History"] = "getProductHistory",
        ["GET /Events"] = "listEvents",
        ["GET /Export"] = "exportRegister",
        ["POST /Webhooks"] = "createWebhook",
        ["GET /Webhooks"] = "listWebhooks",
        ["GET /Webhooks/{webhook_id}"] = "getWebhook",
        ["DELETE /Webhooks/{webhook_id}"] = "deleteWebhook",
    };

    public static string For(string method, string route) =>
        ByRoute.TryGetValue($"{method} /{route.Trim('/')}", out var id)
            ? id
            : throw new InvalidOperationException($"{method} /{route} has no operationId: add one to {nameof(OperationIds)}.");
}
