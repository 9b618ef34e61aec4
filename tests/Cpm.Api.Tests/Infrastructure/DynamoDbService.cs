using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>The service on DynamoDB: the run's moto server, a fresh table per fixture, created by the service itself.</summary>
public class DynamoDbService : CpmService
{
    private readonly bool _ownsTable;

    public DynamoDbService()
        : this($"cpm-tests-{Guid.NewGuid():N}", ownsTable: true)
    {
    }

    private DynamoDbService(string tableName, bool ownsTable)
    {
        TableName = tableName;
        _ownsTable = ownsTable;
    }

    public string TableName { get; }

    public MotoServer Moto { get; private set; } = null!;

    /// <summary>The service's own low-level client (same endpoint, region and account), for looking at rows directly.</summary>
    public IAmazonDynamoDB Dynamo => Services.GetRequiredService<IAmazonDynamoDB>();

    /// <summary>A second instance of the service on the same table, as in a deployment with several; dispose it in the test.</summary>
    public async Task<DynamoDbService> StartAnotherInstanceAsync()
    {
        var other = new DynamoDbService(TableName, ownsTable: false);
        await other.InitializeAsync();
        return other;
    }

    public override CpmService OnSameStore() => new DynamoDbService(TableName, ownsTable: false);

    public override async Task DisposeAsync()
    {
        // Keeps the shared moto small; the table is this fixture's alone.
        if (_ownsTable)
        {
            await Dynamo.DeleteTableAsync(TableName);
        }

        await base.DisposeAsync();
    }

    protected override async Task ConfigureStorageAsync(IDictionary<string, string?> settings)
    {
        Moto = await MotoServer.SharedAsync();
        settings["Storage:Provider"] = "DynamoDb";
        settings["Storage:DynamoDb:TableName"] = TableName;
        settings["Storage:DynamoDb:ServiceUrl"] = Moto.Url;
        settings["Storage:DynamoDb:CreateTable"] = "true";
    }
}

/// <summary>DynamoDB with the clock pinned, for exact timestamps in rows.</summary>
public sealed class DynamoDbPinnedClockService : DynamoDbService
{
    public static readonly DateTimeOffset Now = new DateTimeOffset(2025, 1, 30, 14, 30, 18, TimeSpan.Zero).AddTicks(1_916_437);

    public DynamoDbPinnedClockService() => Clock = new FakeTimeProvider(Now);
}

/// <summary>DynamoDB reached through a <see cref="DynamoDbFaultProxy"/>, so tests can make it conflict or fail.</summary>
public sealed class DynamoDbFaultService : DynamoDbService
{
    public DynamoDbFaultProxy Faults { get; private set; } = null!;

    public override async Task DisposeAsync()
    {
        Faults.Down = false;
        await base.DisposeAsync();
        await Faults.DisposeAsync();
    }

    protected override async Task ConfigureStorageAsync(IDictionary<string, string?> settings)
    {
        await base.ConfigureStorageAsync(settings);
        Faults = await DynamoDbFaultProxy.StartAsync(settings["Storage:DynamoDb:ServiceUrl"]!);
        settings["Storage:DynamoDb:ServiceUrl"] = Faults.Url;
    }
}
