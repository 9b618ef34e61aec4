using Cpm.Api.Http;

namespace Cpm.Api.Auth;

/// <summary>The scope an endpoint needs; checked after the api key and the version header.</summary>
internal sealed record RequiredScope(string Scope);

internal sealed class ScopeFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var required = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>();
        if (required is not null && !Caller.Current(context.HttpContext).Scopes.Contains(required.Scope))
        {
            return ApiResults.Refuse(ErrorCodes.AccessDenied, $"Caller '{Caller.Current(context.HttpContext).Name}' lacks the '{required.Scope}' scope");
        }

        return next(context);
    }
}

internal static class ScopeExtensions
{
    /// <summary>
    /// Endpoints in the group need a scope: GETs <c>read</c>, everything else <c>write</c>. An
    /// endpoint's own <see cref="RequireScope{TBuilder}"/> is added after this and wins.
    /// </summary>
    public static RouteGroupBuilder RequireScopes(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<ScopeFilter>();
        ((IEndpointConventionBuilder)group).Add(endpoint =>
        {
            var methods = endpoint.Metadata.OfType<IHttpMethodMetadata>().SelectMany(m => m.HttpMethods);
            endpoint.Metadata.Add(new RequiredScope(methods.All(m => m == HttpMethods.Get) ? Caller.ReadScope : Caller.WriteScope));
        });
        return group;
    }

    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new RequiredScope(scope));
}

/// <summary>A caller's organisation limit: writes only to teams of the organisations it names.</summary>
internal static class OrganisationScope
{
    /// <summary>Null when the caller may write to the organisation; otherwise the 403 to answer.</summary>
    public static IResult? Deny(HttpContext context, string odsCode)
    {
        var caller = Caller.Current(context);
        return caller.MayWriteTo(odsCode)
            ? null
            : ApiResults.Error(ErrorCodes.AccessDenied, $"Caller '{caller.Name}' may not write to organisation '{odsCode}'");
    }
}
