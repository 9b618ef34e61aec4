using System.Net;
using Cpm.Api.Storage.Sqlite;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cpm.Api.Tests.Storage;

/// <summary>
/// Searches read one covering index, and a store made before it existed gets it at its next start,
/// answering every search as before.
/// </summary>
public sealed class SearchIndexTests
{
    private const string EarlierIndexes = """
        DROP INDEX products_live;
        CREATE INDEX products_live_by_team ON products (product_team_id, id) WHERE status = 'active';
        CREATE INDEX products_live_by_org ON products (ods_code, product_team_id, id) WHERE status = 'active';
        """;

    [Fact]
    public async Task AStoreWithTheEarlierIndexesIsUpgradedAtStartAndSearchesReadOnlyTheNewIndex()
    {
        var directory = Directory.CreateTempSubdirectory("cpm-search-index-").FullName;
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
                var other = await client.CreateTeamAsync(odsCode: (string)team["ods_code"]!);
                for (var i = 0; i < 3; i++)
                {
                    await client.CreateProductAsync((string)team["id"]!);
                    await client.CreateProductAsync((string)other["id"]!);
                }

                var gone = await client.CreateProductAsync((string)team["id"]!);
                (await client.DeleteAsync($"/ProductTeam/{team["id"]}/Product/{gone["id"]}")).AssertStatus(HttpStatusCode.OK);
                var alias = (string)team["keys"]![0]!["key_value"]!;
                var firstPage = (await client.GetAsync($"/Product?product_team_id={alias}&limit=2")).Json();
                paths =
                [
                    $"/Product?organisation_code={team["ods_code"]}",
                    $"/Product?organisation_code={team["ods_code"]}&limit=4",
                    $"/Product?product_team_id={team["id"]}",
                    $"/Product?product_team_id={alias}",
                    $"/Product?product_team_id={alias}&limit=2&cursor={firstPage["next_cursor"]}",
                    $"/Product?product_team_id={other["id"]}",
                ];
                before = await client.ReadAllAsync(paths);
            }

            Assert.All(before, body => Assert.StartsWith("200 ", body));
            await using (var connection = Open(database))
            {
                Execute(connection, EarlierIndexes);
                Assert.Equal(["products_live_by_org", "products_live_by_team"], ProductIndexes(connection));
            }

            await using (var upgraded = SqliteService.OnFile(database))
            {
                // Starting on that store builds the new index and drops the earlier two.
                await upgraded.InitializeAsync();
                Assert.Equal(before, await upgraded.Client().ReadAllAsync(paths));
            }

            await using (var connection = Open(database))
            {
                Assert.Equal(["products_live"], ProductIndexes(connection));
                foreach (var query in new[] { SqliteStore.OrganisationProductsQuery, SqliteStore.TeamProductsQuery })
                {
                    var plan = Plan(connection, query);
                    Assert.Contains("USING COVERING INDEX products_live ", plan);
                    Assert.DoesNotContain("TEMP B-TREE", plan);
                }
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static SqliteConnection Open(string database)
    {
        var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static List<string> ProductIndexes(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products' AND sql IS NOT NULL ORDER BY name";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static string Plan(SqliteConnection connection, string query)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"EXPLAIN QUERY PLAN {query}";
        foreach (var name in new[] { "$ods", "$team", "$afterTeam", "$afterProduct" })
        {
            if (query.Contains(name, StringComparison.Ordinal))
            {
                command.Parameters.AddWithValue(name, "");
            }
        }

        command.Parameters.AddWithValue("$limit", -1);
        using var reader = command.ExecuteReader();
        var steps = new List<string>();
        while (reader.Read())
        {
            steps.Add(reader.GetString(3));
        }

        return string.Join(" | ", steps);
    }
}
