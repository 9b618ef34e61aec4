using Cpm.Api.Http;

namespace Cpm.Api.Auth;

/// <summary>Every route but pre-flight needs a configured key in the <c>apikey</c> header (any case).</summary>
internal sealed class ApiKeyFilter(CallerDirectory callers) : IEndpointFilter
{
    private const string Header = "apikey";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var httpContext = context.HttpContext;
        if (!httpContext.Request.Headers.TryGetValue(Header, out var presented))
        {
            return ApiResults.Refuse(ErrorCodes.AccessDenied, "Missing apikey header");
        }

        if (callers.Identify(presented.ToString()) is not { } caller)
        {
            return ApiResults.Refuse(ErrorCodes.AccessDenied, "Invalid apikey");
        }

        caller.AttachTo(httpContext);
        return next(context);
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
