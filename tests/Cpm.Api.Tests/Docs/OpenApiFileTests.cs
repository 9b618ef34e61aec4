using System.Net;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Docs;

/// <summary>
/// docs/openapi.json, written by every build, is byte for byte what the service serves, is
/// committed as built, and passes Redocly's recommended rules.
/// </summary>
public sealed class OpenApiFileTests(SqliteService service) : IClassFixture<SqliteService>
{
    private const string DocumentFile = "docs/openapi.json";

    [Fact]
    public async Task DocumentFileIsExactlyWhatTheServiceServes()
    {
        var served = await service.Client().GetAsync("/openapi/v1.json");

        served.AssertStatus(HttpStatusCode.OK);
        Assert.True(served.Body == await File.ReadAllTextAsync(Repository.PathOf(DocumentFile)),
            $"{DocumentFile} differs from the served document: build src/Cpm.Api, which writes it, and commit it.");
    }

    [Fact]
    public async Task DocumentFileIsCommittedAsTheBuildWroteIt()
    {
        // The build rewrites the file, so only git can tell that a change to it was never committed.
        var status = await Command.RunAsync("git", ["status", "--porcelain", "--", DocumentFile], Repository.Root);

        Assert.True(status.ExitCode == 0 && status.Output.Length == 0,
            $"The build changed {DocumentFile}: commit it with the code that changed it.\n{status}");
    }

    [Fact]
    public async Task DocumentPassesRedoclyRecommendedRulesWithOnlyTheJustifiedWarningsIgnored()
    {
        var lint = await Command.RunAsync(Repository.NodeTool("redocly"),
            ["lint", DocumentFile, "--config", "redocly.yaml", "--format", "json"], Repository.Root);

        var report = JsonNode.Parse(lint.Output[lint.Output.IndexOf('{', StringComparison.Ordinal)..])!;
        var totals = report["totals"]!;
        Assert.True(lint.ExitCode == 0 && (int)totals["errors"]! == 0 && (int)totals["warnings"]! == 0, $"Redocly: {totals}\n{lint}");
        Assert.Equal(2, (int)totals["ignored"]!);
    }

    [Fact]
    public async Task EveryOperationHasAUniqueOperationIdAndStatesItsSecurity()
    {
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Repository.PathOf(DocumentFile)))!;
        var operations = document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject().Select(operation => operation.Value!)).ToList();

        Assert.All(operations, operation => Assert.NotNull(operation["security"]));
        var ids = operations.Select(operation => (string?)operation["operationId"]).ToList();
        Assert.All(ids, Assert.NotNull);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
