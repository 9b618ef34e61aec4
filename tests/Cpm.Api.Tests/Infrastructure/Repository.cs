namespace Cpm.Api.Tests.Infrastructure;

/// <summary>The checkout the tests were built from, and the npm tools that .ci/run installs into it.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>A program from tools/node_modules/.bin; missing means the install step was not run.</summary>
    public static string NodeTool(string name)
    {
        var path = PathOf(Path.Combine("tools", "node_modules", ".bin", name));
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} is missing: run `npm ci --prefix tools` (.ci/run does) to install the pinned node tools.");
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cpm.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Cpm.slnx above {AppContext.BaseDirectory}: the tests run from a checkout.");
    }
}
