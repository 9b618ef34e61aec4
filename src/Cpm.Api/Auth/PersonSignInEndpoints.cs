using System.Text.RegularExpressions;
using Cpm.Api.Http;
using Cpm.Api.Wire;
using Microsoft.AspNetCore.Authentication;

namespace Cpm.Api.Auth;

/// <summary>
/// The browser's side of sign-in, mapped only when <c>Auth:Oidc</c> is configured:
/// <c>GET /signin</c> goes to the provider, <c>POST /signout</c> ends the session, and
/// <c>GET /session</c> tells the UI who is signed in and gives it the anti-forgery token.
/// They are for the UI, not clients, so they stay out of the API description.
/// </summary>
internal static partial class PersonSignInEndpoints
{
    public static IApplicationBuilder UsePersonSignIn(this IApplicationBuilder app)
    {
        var configuration = app.ApplicationServices.GetRequiredService<IConfiguration>();
        return PersonSignInServiceCollectionExtensions.IsConfigured(configuration) ? app.UseAuthentication() : app;
    }

    public static IEndpointRouteBuilder MapPersonSignIn(this IEndpointRouteBuilder routes)
    {
        if (!PersonSignInServiceCollectionExtensions.IsConfigured(routes.ServiceProvider.GetRequiredService<IConfiguration>()))
        {
            return routes;
        }

        routes.MapGet("/signin", SignIn).ExcludeFromDescription();
        routes.MapPost("/signout", SignOutAsync).ExcludeFromDescription();
        routes.MapGet("/session", SessionAsync).ExcludeFromDescription();
        return routes;
    }

    /// <summary>To the provider, and back to the UI page named by <c>next</c> (only a page of the UI, never another site).</summary>
    private static IResult SignIn(HttpRequest request, string? next)
    {
        var page = next is not null && UiPage().IsMatch(next) ? next : "";
        return Results.Challenge(new AuthenticationProperties { RedirectUri = $"{request.PathBase}/ui/{page}" }, [PersonSessions.OidcScheme]);
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, PersonSessions sessions)
    {
        if (await sessions.AuthenticateAsync(context) is not null && !await sessions.IsAntiforgeryValidAsync(context))
        {
            return ApiResults.Error(ErrorCodes.AccessDenied, PersonSessions.AntiforgeryRefused);
        }

        await context.SignOutAsync(PersonSessions.CookieScheme);
        return Results.NoContent();
    }

    private static async Task<IResult> SessionAsync(HttpContext context, PersonSessions sessions)
    {
        // What the anti-forgery token generation sets anyway; anything without no-cache makes it log a warning per call.
        context.Response.Headers.CacheControl = "no-cache, no-store";
        var json = new PythonJsonWriter().StartObject();
        if (await sessions.AuthenticateAsync(context) is not { } person)
        {
            return ApiResults.Json(StatusCodes.Status200OK, json.Key("signed_in").Boolean(false).EndObject());
        }

        var caller = sessions.ToCaller(person);
        json.Key("signed_in").Boolean(true)
            .Property("name", caller.Name)
            .Key("scopes").StartArray();
        foreach (var scope in caller.Scopes.Order(StringComparer.Ordinal))
        {
            json.String(scope);
        }

        json.EndArray().Key("ods_codes");
        if (caller.OdsCodes is null)
        {
            json.Null();
        }
        else
        {
            json.StartArray();
            foreach (var odsCode in caller.OdsCodes.Order(StringComparer.OrdinalIgnoreCase))
            {
                json.String(odsCode);
            }

            json.EndArray();
        }

        return ApiResults.Json(StatusCodes.Status200OK, json.Property("antiforgery_token", sessions.GetAntiforgeryToken(context)).EndObject());
    }

    [GeneratedRegex(@"^[a-z-]+\.html(\?[A-Za-z0-9._~%&=+-]*)?$")]
    private static partial Regex UiPage();
}
