namespace Cpm.Api.Auth;

internal static class AuthServiceCollectionExtensions
{
    public static IServiceCollection AddApiKeyAuth(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<AuthOptions>()
            .Bind(configuration.GetSection(AuthOptions.Section))
            .Validate(options => options.ApiKeys.All(key => !string.IsNullOrWhiteSpace(key)), "Auth:ApiKeys entries must not be empty.")
            .Validate(options => options.Clients.All(client => !string.IsNullOrWhiteSpace(client.Name) && IsSha256Hex(client.KeyHash)),
                "Each Auth:Clients entry needs a Name and a KeyHash of 64 hex digits (the SHA-256 of its key).")
            .Validate(options => options.Clients.SelectMany(client => client.Scopes).All(scope => scope is Caller.ReadScope or Caller.WriteScope or Caller.AdminScope),
                "Auth:Clients scopes are read, write and admin.")
            .Validate(options => !HasDuplicateNames(options),
                "Caller names must be unique across Auth:Clients and the apikey-N names of Auth:ApiKeys: they key remembered answers and name the actor in history.")
            .Validate(options => options.ApiKeys.Count > 0 || options.Clients.Count > 0 || environment.IsDevelopment(),
                "No api keys are configured: set Auth:ApiKeys:0 (for example --Auth:ApiKeys:0=<key> or the environment variable Auth__ApiKeys__0) or Auth:Clients.")
            .ValidateOnStart();
        services.AddSsmApiKeys(configuration);
        services.AddSingleton<CallerDirectory>();
        services.AddSingleton<ApiKeyFilter>();
        services.AddSingleton<ScopeFilter>();
        return services;
    }

    private static bool HasDuplicateNames(AuthOptions options)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return !options.ApiKeys.Select((_, index) => Caller.PlainKeyName(index))
            .Concat(options.Clients.Select(client => client.Name))
            .All(names.Add);
    }

    private static bool IsSha256Hex(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigit);
}
