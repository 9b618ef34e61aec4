namespace Cpm.Api.Tests.Infrastructure;

/// <summary>The checkout the tests were built from, and the npm tools that .ci/run installs into it.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>A program from tools/node_modules/.bin.</summary>
    public static string NodeTool(string name) => Installed(PathOf(Path.Combine("tools", "node_modules", ".bin", name)));

    /// <summary>A script in tools/ that imports the npm packages installed beside it.</summary>
    public static string NodeScript(string name)
    {
        Installed(PathOf(Path.Combine("tools", "node_modules")));
        return PathOf(Path.Combine("tools", name));
    }

    /// <summary>Missing means the install step was not run.</summary>
    private static string Installed(string path) =>
        File.Exists(path) || Directory.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} is missing: run `npm ci --prefix tools --ignore-scripts` (.ci/run does) to install the pinned node tools.");

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
