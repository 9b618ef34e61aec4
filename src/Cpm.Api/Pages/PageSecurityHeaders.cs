namespace Cpm.Api.Pages;

/// <summary>
/// The headers of every page a browser shows, the self-service UI (/ui/) and the API docs (/docs):
/// everything a page loads or calls comes from this origin, so no outside service is reached.
/// </summary>
internal static class PageSecurityHeaders
{
    /// <summary>
    /// Sets the policy; <paramref name="scriptNonce"/> admits the one inline script a page
    /// renders with that nonce, and <paramref name="inlineStyles"/> the styles its script injects.
    /// </summary>
    public static void Apply(HttpResponse response, string? scriptNonce = null, bool inlineStyles = false)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy =
            $"default-src 'self'; script-src 'self'{(scriptNonce is null ? "" : $" 'nonce-{scriptNonce}'")}; "
            + $"style-src 'self'{(inlineStyles ? " 'unsafe-inline'" : "")}; img-src 'self'; font-src 'self'; connect-src 'self'; "
            + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";

        // Revalidate on each load (a cheap ETag check) so a new release is seen at once.
        headers.CacheControl = "no-cache";
    }
}
