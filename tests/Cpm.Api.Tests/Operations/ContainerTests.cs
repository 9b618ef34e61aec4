using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Operations;

/// <summary>
/// The container image cannot be built here (its base image's registry is out of reach), so what
/// can be checked is: the recipe states what deploy/aws/cpm.yaml expects, and the published app
/// runs the way the image runs it.
/// </summary>
public sealed class ContainerTests : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-container-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task PublishedAppAnswersOnPort8080AsANonRootUserWithAReadOnlyRootFilesystem()
    {
        var publish = await Command.RunAsync(Command.Dotnet,
            ["publish", Repository.PathOf("src/Cpm.Api/Cpm.Api.csproj"), "--no-build", "--configuration", Configuration, "--output", _directory],
            Repository.Root, timeout: TimeSpan.FromMinutes(3));
        Assert.True(publish.ExitCode == 0, publish.ToString());

        // A temp folder is its owner's alone; the image's /app is readable by everyone.
        Assert.Equal(0, (await Command.RunAsync("chmod", ["755", _directory])).ExitCode);

        var check = await Command.RunAsync("bash", [Repository.PathOf("deploy/container/check-offline.sh"), _directory], Repository.Root);

        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Equal(6, check.Output.Split('\n').Count(line => line.StartsWith("ok: ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RecipeRunsTheAppAsTheNonRootUserOnPort8080WithCurlForTheStacksHealthCheck()
    {
        var recipe = (await File.ReadAllLinesAsync(Repository.PathOf("deploy/container/Containerfile")))
            .Where(line => !line.StartsWith('#') && line.Length > 0).ToList();
        var stack = await File.ReadAllTextAsync(Repository.PathOf("deploy/aws/cpm.yaml"));

        Assert.Equal("USER $APP_UID", recipe.Last(line => line.StartsWith("USER ", StringComparison.Ordinal)));
        Assert.Contains("EXPOSE 8080", recipe);
        Assert.Contains("ENV ASPNETCORE_HTTP_PORTS=8080", recipe);
        Assert.Equal("ENTRYPOINT [\"dotnet\", \"Cpm.Api.dll\"]", recipe[^1]);
        Assert.Contains(recipe, line => line.Contains("install --yes --no-install-recommends curl", StringComparison.Ordinal));
        Assert.Contains("ReadonlyRootFilesystem: true", stack, StringComparison.Ordinal);
        Assert.Contains("ContainerPath: /tmp", stack, StringComparison.Ordinal);
        Assert.Contains("Command: [CMD, curl, -fsS, \"http://127.0.0.1:8080/_ping\"]", stack, StringComparison.Ordinal);
    }
}
