using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Storage.DynamoDb;

internal static class DynamoDbServiceCollectionExtensions
{
    // Bounded: a hung endpoint becomes a 503 instead of a request that never ends.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static IServiceCollection AddDynamoDbStore(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>()
            .Validate(options => !string.IsNullOrWhiteSpace(options.DynamoDb.TableName),
                "Storage:DynamoDb:TableName is required when Storage:Provider is DynamoDb.")
            .Validate(options => options.DynamoDb.ServiceUrl is null || Uri.TryCreate(options.DynamoDb.ServiceUrl, UriKind.Absolute, out _),
                "Storage:DynamoDb:ServiceUrl must be an absolute URL such as http://127.0.0.1:5000.")
            .ValidateOnStart();
        services.AddSingleton<IAmazonDynamoDB>(provider => CreateClient(provider.GetRequiredService<IOptions<StorageOptions>>().Value.DynamoDb));
        services.AddSingleton<ICpmStore, DynamoDbStore>();
        services.AddHostedService<DynamoDbTableCreator>();
        return services;
    }

    /// <summary>
    /// AWS: region and credentials from the SDK's standard chain. A local server (ServiceUrl set)
    /// needs neither, so the AWS_* environment variables are used when present and placeholders
    /// otherwise; nothing then probes instance metadata.
    /// </summary>
    private static AmazonDynamoDBClient CreateClient(DynamoDbStorageOptions options)
    {
        if (options.ServiceUrl is null)
        {
            return new AmazonDynamoDBClient(new AmazonDynamoDBConfig { Timeout = RequestTimeout });
        }

        var config = new AmazonDynamoDBConfig
        {
            ServiceURL = options.ServiceUrl,
            AuthenticationRegion = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? "us-east-1",
            Timeout = RequestTimeout,
        };
        AWSCredentials credentials = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"))
            ? new BasicAWSCredentials("local", "local")
            : new EnvironmentVariablesAWSCredentials();
        return new AmazonDynamoDBClient(credentials, config);
    }
}
