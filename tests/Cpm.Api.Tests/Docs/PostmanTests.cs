using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Docs;

/// <summary>
/// docs/postman is what tools/make-postman.mjs makes from docs/openapi.json, and its sequence runs
/// green with newman against the real service process.
/// </summary>
public sealed class PostmanTests(RealService service) : IClassFixture<RealService>, IDisposable
{
    private const string Collection = "docs/postman/cpm.postman_collection.json";
    private const string Environment = "docs/postman/cpm.postman_environment.json";

    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-postman-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task CommittedCollectionAndEnvironmentAreWhatTheScriptGenerates()
    {
        var run = await Command.RunAsync("node", [Repository.NodeScript("make-postman.mjs"), _directory], Repository.Root);

        Assert.True(run.ExitCode == 0, run.ToString());
        foreach (var file in new[] { Collection, Environment })
        {
            Assert.True(await File.ReadAllTextAsync(Path.Combine(_directory, Path.GetFileName(file))) == await File.ReadAllTextAsync(Repository.PathOf(file)),
                $"{file} differs from what `node tools/make-postman.mjs` writes: run it and commit the result.");
        }
    }

    [Fact]
    public async Task NewmanRunsTheWholeSequenceGreenWithTestsInEveryRequest()
    {
        var report = Path.Combine(_directory, "newman.json");

        var run = await Command.RunAsync(Repository.NodeTool("newman"),
        [
            "run", Collection, "--environment", Environment,
            "--env-var", $"baseUrl={service.Process.BaseUrl}", "--env-var", $"apiKey={RealService.ApiKey}", "--env-var", $"odsCode={Unique.OdsCode()}",
            "--reporters", "cli,json", "--reporter-json-export", report, "--bail", "--color", "off",
        ], Repository.Root);

        Assert.True(run.ExitCode == 0, run.ToString());
        var results = JsonNode.Parse(await File.ReadAllTextAsync(report))!["run"]!;
        var requests = JsonNode.Parse(await File.ReadAllTextAsync(Repository.PathOf(Collection)))!["item"]!.AsArray().Count;
        Assert.Equal(requests, (int)results["stats"]!["requests"]!["total"]!);
        Assert.Equal(0, (int)results["stats"]!["requests"]!["failed"]!);
        Assert.Equal(0, (int)results["stats"]!["assertions"]!["failed"]!);
        Assert.All(results["executions"]!.AsArray(), execution => Assert.NotEmpty(execution!["assertions"]!.AsArray()));
    }
}
