using System.Diagnostics;
using System.Text.Json.Nodes;
using Cpm.Api.Export;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// Import refusal (docs/API.md, section 16): a malformed or inconsistent export is refused whole. The import names each
/// bad line, exits 1 and writes nothing, never ending in an unhandled exception.
/// </summary>
public sealed class ImportRefusalTests(SqliteService empty) : IClassFixture<SqliteService>
{
    private const string TeamId = "0b7a5e2c-3f41-4a8e-9d6b-1c2e3f4a5b6c";
    private const string DeletedTeamId = "7d3f1a90-2b4c-4e5d-8f6a-9b0c1d2e3f4a";
    private const string Alias = "5f0c9d8e-7a6b-4c3d-8e2f-1a0b9c8d7e6f";
    private const string At = "2025-01-30T14:30:18.191643+00:00";

    public static TheoryData<string, Action<List<JsonObject>>, string> BadFiles() => new()
    {
        { "keys null", lines => lines[0]["keys"] = null, "line 1: 'keys' must be a list" },
        { "huge version", lines => lines[0]["version"] = JsonNode.Parse("1000000000000000000000000000000"), "line 1: 'version' must be an integer from 1 to 9007199254740992" },
        { "negative version", lines => lines[2]["version"] = -5, "line 3: 'version' must be an integer from 1 to 9007199254740992" },
        { "duplicate team", lines => lines.Add(lines[0].DeepClone().AsObject()), "line 6: duplicate team id '0b7a5e2c-3f41-4a8e-9d6b-1c2e3f4a5b6c' (first on line 1)" },
        { "duplicate product", lines => lines.Add(lines[2].DeepClone().AsObject()), "line 6: duplicate product id 'P.ACD-EFG' (first on line 3)" },
        { "duplicate event", lines => lines.Add(lines[3].DeepClone().AsObject()), "line 6: duplicate event id" },
        { "duplicate live alias", lines => lines[1]["status"] = "active", "line 2: duplicate live team alias '5f0c9d8e-7a6b-4c3d-8e2f-1a0b9c8d7e6f' (first on line 1)" },
        { "live product under deleted team", lines => lines[2]["cpm_product_team_id"] = DeletedTeamId, "line 3: product P.ACD-EFG is active but its team 7d3f1a90-2b4c-4e5d-8f6a-9b0c1d2e3f4a is deleted" },
        { "missing team", lines => lines.RemoveAt(0), "line 2: product P.ACD-EFG belongs to team 0b7a5e2c-3f41-4a8e-9d6b-1c2e3f4a5b6c, which is not in the file" },
        { "unknown status", lines => lines[0]["status"] = "pwned", "line 1: unknown status 'pwned'" },
        { "product id format", lines => lines[2]["id"] = "javascript:alert(1)", "line 3: 'id' is not a product id such as P.7GX-ANH" },
        { "team id format", lines => lines[0]["id"] = "../etc", "line 1: 'id' is not a UUID" },
        { "unknown kind", lines => lines[4]["kind"] = "webhook", "line 5: unknown kind 'webhook'" },
        { "missing field", lines => lines[0].Remove("name"), "line 1: 'name' is missing" },
        { "null field", lines => lines[2]["name"] = null, "line 3: 'name' is null" },
        { "bad timestamp", lines => lines[3]["occurred_on"] = "yesterday", "line 4: 'occurred_on' is not a timestamp" },
        { "unknown event type", lines => lines[3]["type"] = "ProductTeamExploded", "line 4: unknown type 'ProductTeamExploded'" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task ABadFileIsRefusedWholeNamingTheLine(string name, Action<List<JsonObject>> spoil, string expected)
    {
        var lines = GoodLines();
        spoil(lines);

        var (exitCode, output) = await ImportAsync(lines.Select(line => line.ToJsonString()));

        Assert.True(exitCode == 1, $"{name}: {output}");
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Contains("refused, nothing was imported", output, StringComparison.Ordinal);
        Assert.Equal("", (await empty.Client(CpmService.AdminKey).GetAsync("/Export")).Body);
    }

    [Fact]
    public async Task EveryBadLineIsNamedAndALineThatIsNotJsonToo()
    {
        var lines = GoodLines().Select(line => line.ToJsonString()).ToList();
        lines[0] = lines[0].Replace("\"active\"", "\"pwned\"", StringComparison.Ordinal);
        lines.Insert(2, "{not json");
        lines.Add("[1, 2]");

        var (exitCode, output) = await ImportAsync(lines);

        Assert.Equal(1, exitCode);
        Assert.Contains("line 1: unknown status 'pwned'", output, StringComparison.Ordinal);
        Assert.Contains("line 3: invalid JSON: ", output, StringComparison.Ordinal);
        Assert.Contains("line 7: not a JSON object", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheUnspoiledFileImports()
    {
        await using var target = new SqliteService();
        await target.InitializeAsync();
        var file = await WriteAsync(GoodLines().Select(line => line.ToJsonString()));
        try
        {
            using var output = new StringWriter();

            Assert.Equal(0, await ImportCommand.RunAsync(target.Services, file, output));
            Assert.Contains("Imported 2 teams, 1 products and 2 events", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task TheCommandExitsWithOneAndNoStackTrace()
    {
        var lines = GoodLines();
        lines[0]["keys"] = null;
        lines[2]["version"] = JsonNode.Parse("1000000000000000000000000000000");
        var file = await WriteAsync(lines.Select(line => line.ToJsonString()));
        var database = Path.Combine(Path.GetTempPath(), $"cpm-refused-{Guid.NewGuid():N}.db");
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Cpm.Api.dll"), "import", file, $"--Storage:Sqlite:Path={database}", "--Auth:ApiKeys:0=k" })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            using var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var output = await process.StandardOutput.ReadToEndAsync(timeout.Token) + await process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);

            Assert.True(process.ExitCode == 1, output);
            Assert.Contains("line 1: 'keys' must be a list", output, StringComparison.Ordinal);
            Assert.Contains("line 3: 'version' must be an integer", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(database);
        }
    }

    /// <summary>A live team, a deleted team holding the same alias, a product of the live team, and two events.</summary>
    private static List<JsonObject> GoodLines() =>
    [
        Team(TeamId, "active", null),
        Team(DeletedTeamId, "inactive", At),
        JsonNode.Parse($$"""
            {"kind": "product", "id": "P.ACD-EFG", "cpm_product_team_id": "{{TeamId}}", "product_team_id": "{{Alias}}", "name": "Product",
             "ods_code": "F5H1R", "status": "active", "created_on": "{{At}}", "updated_on": null, "deleted_on": null, "keys": [], "version": 1}
            """)!.AsObject(),
        Event(TeamId),
        Event(DeletedTeamId),
    ];

    private static JsonObject Team(string id, string status, string? deletedOn) => JsonNode.Parse($$"""
        {"kind": "product_team", "id": "{{id}}", "name": "Team", "ods_code": "F5H1R", "status": "{{status}}", "created_on": "{{At}}",
         "updated_on": {{(deletedOn is null ? "null" : $"\"{deletedOn}\"")}}, "deleted_on": {{(deletedOn is null ? "null" : $"\"{deletedOn}\"")}},
         "keys": [{"key_type": "product_team_id", "key_value": "{{Alias}}"}], "version": {{(deletedOn is null ? 1 : 2)}}}
        """)!.AsObject();

    private static JsonObject Event(string teamId) => JsonNode.Parse($$"""
        {"kind": "event", "event_id": "{{Guid.NewGuid()}}", "entity_type": "product_team", "entity_id": "{{teamId}}", "type": "ProductTeamCreated",
         "occurred_on": "{{At}}", "version": 1, "request_id": null, "correlation_id": null, "actor": "apikey-0",
         "changes": [{"field": "name", "old": null, "new": "Team"}]}
        """)!.AsObject();

    private async Task<(int ExitCode, string Output)> ImportAsync(IEnumerable<string> lines)
    {
        var file = await WriteAsync(lines);
        try
        {
            using var output = new StringWriter();
            var exitCode = await ImportCommand.RunAsync(empty.Services, file, output);
            return (exitCode, output.ToString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string> WriteAsync(IEnumerable<string> lines)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cpm-import-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllLinesAsync(file, lines);
        return file;
    }
}
