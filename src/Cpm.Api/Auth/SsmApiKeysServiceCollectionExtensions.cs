using Microsoft.Extensions.Options;

namespace Cpm.Api.Auth;

internal static class SsmApiKeysServiceCollectionExtensions
{
    /// <summary>
    /// When <c>Auth:ApiKeysParameter</c> is set, the keys in that parameter are added after
    /// <c>Auth:ApiKeys</c> at start-up; otherwise nothing about SSM is registered.
    /// </summary>
    public static IServiceCollection AddSsmApiKeys(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(AuthOptions.Section);
        if (string.IsNullOrWhiteSpace(section[nameof(SsmApiKeysOptions.ApiKeysParameter)]))
        {
            return services;
        }

        services.AddOptions<SsmApiKeysOptions>()
            .Bind(section)
            .Validate(options => options.SsmServiceUrl is null || (options.SsmServiceUrl.IsAbsoluteUri && options.SsmServiceUrl.Scheme is "http" or "https"),
                "Auth:SsmServiceUrl must be an absolute http(s) URL.")
            .ValidateOnStart();
        services.AddSingleton<SsmApiKeys>();
        services.AddSingleton<IPostConfigureOptions<AuthOptions>>(provider => provider.GetRequiredService<SsmApiKeys>());
        return services;
    }
}
