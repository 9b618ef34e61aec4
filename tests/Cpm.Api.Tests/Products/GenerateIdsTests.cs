using System.Text.Json;
using Cpm.Api.Products;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Products;

/// <summary><c>dotnet Cpm.Api.dll generate-ids</c>, run as a process exactly as operators run it.</summary>
public sealed class GenerateIdsTests : IDisposable
{
    private const string IdPattern = "^P\\.[ACDEFGHJKLMNPRTUVWXY34679]{3}-[ACDEFGHJKLMNPRTUVWXY34679]{3}$";

    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-ids-").FullName;

    private string ReservedFile => Path.Combine(_directory, "reserved.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task CreatesTheFileWithTheRequestedNumberOfValidDistinctIdsWithoutStartingTheWebHost()
    {
        // A store the web host would refuse at once and no api key in Production: only a command
        // that never builds the host can succeed here.
        var environment = new Dictionary<string, string> { ["Storage__Provider"] = "NotAStore", ["ASPNETCORE_ENVIRONMENT"] = "Production" };

        var result = await Command.CpmApiAsync(["generate-ids", "--count", "25", "--file", ReservedFile], environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        var printed = Lines(result.Output);
        Assert.Equal(25, printed.Count);
        Assert.All(printed, id => Assert.Matches(IdPattern, id));
        Assert.Equal(25, printed.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(printed, ReadFile());
        Assert.Equal(printed.ToHashSet(), ProductIdOptions.ReadReserved(ReservedFile, out _));
    }

    [Fact]
    public async Task KeepsWhatIsInTheFileAndAddsOnlyIdsNotAlreadyThere()
    {
        string[] existing = ["P.AAA-AAA", "P.CCC-CCC", "an id from an older scheme"];
        await File.WriteAllTextAsync(ReservedFile, JsonSerializer.Serialize(existing));

        var first = await Command.CpmApiAsync(["generate-ids", "--file", ReservedFile, "--count", "40"]);
        var second = await Command.CpmApiAsync(["generate-ids", "--count", "40", "--file", ReservedFile]);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        var added = Lines(first.Output).Concat(Lines(second.Output)).ToList();
        Assert.Equal([.. existing, .. added], ReadFile());
        Assert.Equal(80, added.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(added.Intersect(existing));
    }

    [Theory]
    [InlineData("")]
    [InlineData("--count 3")]
    [InlineData("--file FILE")]
    [InlineData("--count 0 --file FILE")]
    [InlineData("--count -1 --file FILE")]
    [InlineData("--count three --file FILE")]
    [InlineData("--count 100001 --file FILE")]
    [InlineData("--count 3 --file")]
    [InlineData("--count 3 --count 4 --file FILE")]
    [InlineData("--count 3 --file FILE --verbose")]
    [InlineData("--count 3 --file FOLDER")]
    public async Task BadArgumentsExitWithTwoAMessageAndNoFile(string arguments)
    {
        var result = await Command.CpmApiAsync(
            ["generate-ids", .. arguments.Replace("FILE", ReservedFile).Replace("FOLDER", _directory).Split(' ', StringSplitOptions.RemoveEmptyEntries)]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Empty(result.Output);
        Assert.Contains("Usage: dotnet Cpm.Api.dll generate-ids --count N --file PATH", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(ReservedFile));
    }

    [Fact]
    public async Task AFileThatIsNotAnArrayOfIdsIsLeftAsItIs()
    {
        await File.WriteAllTextAsync(ReservedFile, """{"ids": []}""");

        var result = await Command.CpmApiAsync(["generate-ids", "--count", "3", "--file", ReservedFile]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("is not a readable JSON array of product id strings", result.Error, StringComparison.Ordinal);
        Assert.Equal("""{"ids": []}""", await File.ReadAllTextAsync(ReservedFile));
        Assert.Single(Directory.GetFiles(_directory));
    }

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private List<string> ReadFile() => JsonSerializer.Deserialize<List<string>>(File.ReadAllText(ReservedFile))!;
}
