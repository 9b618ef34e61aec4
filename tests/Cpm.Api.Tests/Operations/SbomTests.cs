using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Operations;

/// <summary>scripts/sbom.sh as a pipeline runs it: a valid CycloneDX SBOM of every package, and an audit verdict.</summary>
public sealed class SbomTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-sbom-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task SbomIsValidCycloneDxListingEveryNuGetPackageWithVersionLicenceAndPurlAndTheAuditGivesAVerdict()
    {
        var run = await Command.RunAsync("bash", [Repository.PathOf("scripts/sbom.sh"), _directory], Repository.Root, timeout: TimeSpan.FromMinutes(5));

        Assert.True(run.ExitCode == 0, run.ToString());
        var bom = Path.Combine(_directory, "bom.json");
        var validation = await Command.RunAsync("node", [Repository.NodeScript("validate-sbom.mjs"), bom], Repository.Root);
        Assert.True(validation.ExitCode == 0, validation.ToString());

        var components = JsonNode.Parse(await File.ReadAllTextAsync(bom))!["components"]!.AsArray()
            .ToDictionary(component => (string)component!["name"]!, component => component!);
        var packages = JsonNode.Parse(await File.ReadAllTextAsync(Repository.PathOf("src/Cpm.Api/obj/project.assets.json")))!["libraries"]!.AsObject()
            .Where(library => (string)library.Value!["type"]! == "package")
            .Select(library => library.Key.Split('/'))
            .ToList();
        Assert.NotEmpty(packages);
        Assert.Equal(packages.Count, components.Count);
        foreach (var package in packages)
        {
            var (name, version) = (package[0], package[1]);
            Assert.True(components.TryGetValue(name, out var component), $"{name} is not in the SBOM");
            Assert.Equal(version, (string)component!["version"]!);
            Assert.Equal($"pkg:nuget/{name}@{version}", (string)component["purl"]!);
            var licences = component["licenses"]?.AsArray() ?? [];
            Assert.True(licences.Any(l => l!["license"]?["id"] is not null || l!["license"]?["name"] is not null || l!["expression"] is not null),
                $"{name} has no licence in the SBOM");
        }

        var verdict = (await File.ReadAllLinesAsync(Path.Combine(_directory, "audit.txt")))[^1];
        Assert.Matches("^audit: (clean|UNVERIFIED|VULNERABLE): ", verdict);
        Assert.Contains(verdict, run.Output, StringComparison.Ordinal);
    }
}
