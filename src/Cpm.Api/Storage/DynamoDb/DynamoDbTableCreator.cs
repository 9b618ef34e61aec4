using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Options;
using ZLogger;

namespace Cpm.Api.Storage.DynamoDb;

/// <summary>With <c>Storage:DynamoDb:CreateTable</c>, creates the table at start-up when missing and waits until it is usable.</summary>
internal sealed partial class DynamoDbTableCreator(IAmazonDynamoDB client, IOptions<StorageOptions> options, ILogger<DynamoDbTableCreator> logger) : IHostedService
{
    private static readonly TimeSpan ActiveTimeout = TimeSpan.FromSeconds(60);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.DynamoDb;
        if (!settings.CreateTable)
        {
            return;
        }

        var tableName = settings.TableName!;
        try
        {
            await client.CreateTableAsync(DynamoDbTable.CreateRequest(tableName), cancellationToken);
            LogCreated(tableName);
        }
        catch (ResourceInUseException)
        {
            // It exists already (or another instance is creating it): wait for it below.
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ActiveTimeout);
        while ((await client.DescribeTableAsync(tableName, timeout.Token)).Table.TableStatus != TableStatus.ACTIVE)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [ZLoggerMessage(LogLevel.Information, "Created DynamoDB table {TableName}")]
    private partial void LogCreated(string tableName);
}
