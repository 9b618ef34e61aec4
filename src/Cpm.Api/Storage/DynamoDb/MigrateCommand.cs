namespace Cpm.Api.Storage.DynamoDb;

/// <summary>
/// <c>dotnet Cpm.Api.dll migrate [--Storage:...]</c>: completes the takeover of a table the
/// existing service wrote (docs/DYNAMODB.md), then exits. Only for <c>Storage:Provider=DynamoDb</c>.
/// </summary>
internal static class MigrateCommand
{
    public const string Verb = "migrate";

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output)
    {
        if (services.GetRequiredService<ICpmStore>() is not DynamoDbStore store)
        {
            await output.WriteLineAsync("migrate applies to Storage:Provider=DynamoDb only; nothing was changed.");
            return 1;
        }

        var migration = await store.MigrateAsync(CancellationToken.None);
        foreach (var id in migration.SharedIds)
        {
            await output.WriteLineAsync($"Product id {id} is used by products of two teams; its id row keeps one of them.");
        }

        await output.WriteLineAsync($"Copied {migration.Copied} products to their id rows; the table is taken over.");
        return 0;
    }
}
