namespace Cpm.Api.Auth;

internal static class AuthServiceCollectionExtensions
{
    public static IServiceCollection AddApiKeyAuth(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<AuthOptions>()
            .Bind(configuration.GetSection(AuthOptions.Section))
            .Validate(options => options.ApiKeys.All(key => !string.IsNullOrWhiteSpace(key)), "Auth:ApiKeys entries must not be empty.")
            .Validate(options => options.ApiKeys.Count > 0 || environment.IsDevelopment(),
                "No api keys are configured: set Auth:ApiKeys:0 (for example --Auth:ApiKeys:0=<key> or the environment variable Auth__ApiKeys__0).")
            .ValidateOnStart();
        services.AddSsmApiKeys(configuration);
        services.AddSingleton<CallerDirectory>();
        services.AddSingleton<ApiKeyFilter>();
        return services;
    }
}
