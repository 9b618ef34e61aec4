using Cpm.Api.Http;

namespace Cpm.Api.Auth;

/// <summary>
/// Every route but pre-flight needs a configured key in the <c>apikey</c> header (any case), or,
/// when people sign in (<c>Auth:Oidc</c>), a session cookie with its anti-forgery header.
/// </summary>
internal sealed class ApiKeyFilter(CallerDirectory callers, PersonSessions? sessions = null) : IEndpointFilter
{
    private const string Header = "apikey";
    private const string MissingKey = "Missing apikey header";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var httpContext = context.HttpContext;
        if (!httpContext.Request.Headers.TryGetValue(Header, out var presented))
        {
            return sessions is null ? ApiResults.Refuse(ErrorCodes.AccessDenied, MissingKey) : FromSessionAsync(context, next, sessions);
        }

        if (callers.Identify(presented.ToString()) is not { } caller)
        {
            return ApiResults.Refuse(ErrorCodes.AccessDenied, "Invalid apikey");
        }

        caller.AttachTo(httpContext);
        return next(context);
    }

    private static async ValueTask<object?> FromSessionAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, PersonSessions sessions)
    {
        var (caller, refusal) = await sessions.IdentifyAsync(context.HttpContext);
        if (caller is null)
        {
            return refusal ?? ApiResults.Error(ErrorCodes.AccessDenied, MissingKey);
        }

        caller.AttachTo(context.HttpContext);
        return await next(context);
    }
}

/// <summary>Marks endpoints behind <see cref="ApiKeyFilter"/>, for the OpenAPI document.</summary>
internal sealed class ApiKeyMetadata;

internal static class ApiKeyExtensions
{
    public static RouteGroupBuilder RequireApiKey(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<ApiKeyFilter>().WithMetadata(new ApiKeyMetadata());
        return group;
    }
}
