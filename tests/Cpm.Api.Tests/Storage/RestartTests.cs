using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Storage;

/// <summary>A restart on the same database keeps everything, byte for byte.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task EverythingWrittenIsServedIdenticallyAfterARestart()
    {
        var directory = Directory.CreateTempSubdirectory("cpm-restart-").FullName;
        var database = Path.Combine(directory, "cpm.db");
        try
        {
            string[] paths;
            string[] before;
            await using (var first = SqliteService.OnFile(database))
            {
                await first.InitializeAsync();
                var client = first.Client();
                var team = await client.CreateTeamAsync();
                var product = await client.CreateProductAsync((string)team["id"]!);
                var gone = await client.CreateProductAsync((string)team["id"]!);
                (await client.DeleteAsync($"/ProductTeam/{team["id"]}/Product/{gone["id"]}")).AssertStatus(HttpStatusCode.OK);
                paths =
                [
                    $"/ProductTeam/{team["id"]}",
                    $"/ProductTeam/{team["keys"]![0]!["key_value"]}",
                    $"/Product/{product["id"]}",
                    $"/Product/{gone["id"]}",
                    $"/Product?organisation_code={team["ods_code"]}",
                    $"/ProductTeam?organisation_code={team["ods_code"]}",
                ];
                before = await client.ReadAllAsync(paths);
            }

            await using var second = SqliteService.OnFile(database);
            await second.InitializeAsync();

            Assert.Equal(before, await second.Client().ReadAllAsync(paths));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
