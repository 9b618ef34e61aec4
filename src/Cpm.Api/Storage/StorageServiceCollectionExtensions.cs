using Cpm.Api.Storage.DynamoDb;
using Cpm.Api.Storage.Sqlite;

namespace Cpm.Api.Storage;

internal static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddCpmStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(StorageOptions.Section);
        services.Configure<StorageOptions>(section);
        var provider = section.GetValue<string>(nameof(StorageOptions.Provider)) ?? StorageOptions.SqliteProvider;
        switch (provider.ToUpperInvariant())
        {
            case "SQLITE":
                services.AddSingleton<ICpmStore, SqliteStore>();
                break;
            case "DYNAMODB":
                services.AddDynamoDbStore();
                break;
            default:
                throw new InvalidOperationException(
                    $"Storage:Provider '{provider}' is not supported; use '{StorageOptions.SqliteProvider}' or '{StorageOptions.DynamoDbProvider}'.");
        }

        return services;
    }
}
