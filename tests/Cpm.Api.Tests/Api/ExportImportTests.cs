using System.Net;
using System.Text.Json.Nodes;
using Cpm.Api.Export;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// Export from SQLite, import into this class's (empty) store, export again: identical, so a
/// register moves between stores with ids, timestamps, versions and history intact.
/// </summary>
public abstract class ExportImportTests(CpmService target)
{
    [Fact]
    public async Task ARegisterMovesIntactFromSqliteIntoThisStore()
    {
        await using var source = new SqliteService();
        await source.InitializeAsync();
        await SeedAsync(source.Client());
        var exported = await ExportAsync(source);
        var file = Path.Combine(Path.GetTempPath(), $"cpm-export-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllTextAsync(file, exported);
        try
        {
            using var output = new StringWriter();
            Assert.Equal(0, await ImportCommand.RunAsync(target.Services, file, output));

            Assert.Equal(exported, await ExportAsync(target));
        }
        finally
        {
            File.Delete(file);
        }

        var lines = exported.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["product_team", "product", "event"], lines.Select(l => l.Split('"')[3]).Distinct());
        Assert.Contains(lines, l => l.Contains("\"status\": \"inactive\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExportNeedsTheAdminScope()
    {
        (await target.Client().GetAsync("/Export")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Caller 'apikey-0' lacks the 'admin' scope");
        var admin = await target.Client(CpmService.AdminKey).GetAsync("/Export");
        admin.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("application/x-ndjson", admin.Header("Content-Type"));
    }

    private static async Task SeedAsync(CpmClient client)
    {
        var team = await client.CreateTeamAsync(name: "Export Team");
        var id = (string)team["id"]!;
        var kept = (string)(await client.CreateProductAsync(id, "Kept"))["id"]!;
        var gone = (string)(await client.CreateProductAsync(id, "Gone"))["id"]!;
        (await client.DeleteAsync($"/ProductTeam/{id}/Product/{gone}")).AssertStatus(HttpStatusCode.OK);
        (await client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{id}/Product/{kept}", """{"name": "Kept Renamed"}""", ("If-Match", "*"), ("X-Request-Id", "r-1"))).AssertStatus(HttpStatusCode.OK);
        var deleted = await client.CreateTeamAsync(name: "Deleted Team");
        (await client.DeleteAsync($"/ProductTeam/{deleted["id"]}")).AssertStatus(HttpStatusCode.OK);
        await client.CreateTeamAsync(name: "No Alias \u00e9");
    }

    private static async Task<string> ExportAsync(CpmService service)
    {
        var reply = await service.Client(CpmService.AdminKey).GetAsync("/Export");
        reply.AssertStatus(HttpStatusCode.OK);
        return reply.Body;
    }
}

public sealed class SqliteExportImportTests(SqliteService service) : ExportImportTests(service), IClassFixture<SqliteService>
{
    [Fact]
    public async Task TheImportCommandLoadsAFileFromTheCommandLine()
    {
        await using var source = new SqliteService();
        await source.InitializeAsync();
        await source.Client().CreateTeamAsync();
        var export = (await source.Client(CpmService.AdminKey).GetAsync("/Export")).Body;
        var directory = Directory.CreateTempSubdirectory("cpm-import-").FullName;
        try
        {
            var file = Path.Combine(directory, "export.ndjson");
            await File.WriteAllTextAsync(file, export);
            var database = Path.Combine(directory, "imported.db");

            var (exitCode, output) = await RunServiceAsync("import", file, $"--Storage:Sqlite:Path={database}", "--Auth:ApiKeys:0=k");

            Assert.True(exitCode == 0, output);
            Assert.Contains("Imported 1 teams, 0 products and 1 events", output);
            var (again, refused) = await RunServiceAsync("import", file, $"--Storage:Sqlite:Path={database}", "--Auth:ApiKeys:0=k");
            Assert.NotEqual(0, again);
            Assert.Contains("empty store", refused);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task TheImportCommandRefusesAProductOutsideItsTeamsOrganisation()
    {
        await using var source = new SqliteService();
        await source.InitializeAsync();
        var team = await source.Client().CreateTeamAsync();
        var product = await source.Client().CreateProductAsync((string)team["id"]!);
        var export = (await source.Client(CpmService.AdminKey).GetAsync("/Export")).Body;
        var lines = export
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!.AsObject())
            .ToList();
        lines.Single(line => (string?)line["kind"] == ExportFormat.ProductKind)["ods_code"] = "ELSEWHERE";
        var directory = Directory.CreateTempSubdirectory("cpm-import-").FullName;
        try
        {
            var file = Path.Combine(directory, "altered.ndjson");
            await File.WriteAllLinesAsync(file, lines.Select(line => line.ToJsonString()));
            var database = Path.Combine(directory, "imported.db");

            var (exitCode, output) = await RunServiceAsync("import", file, $"--Storage:Sqlite:Path={database}", "--Auth:ApiKeys:0=k");

            Assert.Equal(1, exitCode);
            Assert.Contains($"product {product["id"]} has ods_code 'ELSEWHERE' but its team {team["id"]} has '{team["ods_code"]}'", output);

            // Nothing was written: the unaltered export still goes into the same, still empty, store.
            var original = Path.Combine(directory, "export.ndjson");
            await File.WriteAllTextAsync(original, export);
            var (imported, importOutput) = await RunServiceAsync("import", original, $"--Storage:Sqlite:Path={database}", "--Auth:ApiKeys:0=k");
            Assert.True(imported == 0, importOutput);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<(int? ExitCode, string Output)> RunServiceAsync(params string[] arguments) =>
        ServiceProcess.RunToExitAsync(arguments, TimeSpan.FromSeconds(60));
}
