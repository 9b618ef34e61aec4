namespace Cpm.Api.Tests.Docs;

/// <summary>A fenced <c>```sh</c> block of the repository's Markdown: its file, the heading it sits under, and its text.</summary>
public sealed record ShellBlock(string File, string Heading, string Text)
{
    /// <summary>The checkout the tests were built from: the first folder above the test binaries holding Cpm.slnx.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>README.md, then docs/*.md by name, each file's blocks in document order.</summary>
    public static IReadOnlyList<ShellBlock> All()
    {
        var files = Directory.GetFiles(Path.Combine(RepositoryRoot, "docs"), "*.md")
            .Select(path => Path.GetRelativePath(RepositoryRoot, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .Prepend("README.md");
        return [.. files.SelectMany(Read)];
    }

    private static IEnumerable<ShellBlock> Read(string file)
    {
        var heading = "";
        string? language = null;
        var text = new List<string>();
        foreach (var line in System.IO.File.ReadLines(Path.Combine(RepositoryRoot, file)))
        {
            if (language is null && line.StartsWith('#'))
            {
                heading = line.TrimStart('#').Trim();
            }
            else if (line.StartsWith("```", StringComparison.Ordinal))
            {
                if (language is null)
                {
                    language = line[3..].Trim();
                    text.Clear();
                    continue;
                }

                if (language == "sh")
                {
                    yield return new ShellBlock(file, heading, string.Join('\n', text) + "\n");
                }

                language = null;
            }
            else if (language is not null)
            {
                text.Add(line);
            }
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(directory.FullName, "Cpm.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Cpm.slnx above {AppContext.BaseDirectory}: the docs tests run from a build inside the repository.");
    }
}
