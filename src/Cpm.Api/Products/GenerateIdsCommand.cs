using System.Globalization;
using System.Text.Json;

namespace Cpm.Api.Products;

/// <summary>
/// <c>dotnet Cpm.Api.dll generate-ids --count N --file PATH</c>: adds N new, distinct product ids to
/// the JSON array that <c>ProductIds:ReservedFile</c> reads, keeping what is there, and prints them.
/// It runs before the web host is built, so it needs no configuration, store or api key.
/// </summary>
internal static class GenerateIdsCommand
{
    public const string Verb = "generate-ids";
    public const int MaxCount = 100_000;

    private static readonly string Usage =
        $"Usage: dotnet Cpm.Api.dll {Verb} --count N --file PATH (N from 1 to {MaxCount}; PATH a JSON array of product ids, created if missing)";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <returns>0 when the ids were written; 2 for bad arguments; 1 when the file cannot be read or written.</returns>
    public static int Run(IReadOnlyList<string> arguments, TextWriter output, TextWriter error)
    {
        if (Parse(arguments, out var count, out var path) is { } problem)
        {
            error.WriteLine(problem);
            error.WriteLine(Usage);
            return 2;
        }

        List<string> all;
        try
        {
            all = File.Exists(path) ? JsonSerializer.Deserialize<List<string>>(File.ReadAllText(path)) ?? [] : [];
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException or JsonException)
        {
            error.WriteLine($"{path} is not a readable JSON array of product id strings: {failure.Message}");
            return 1;
        }

        var taken = new HashSet<string>(all, StringComparer.Ordinal);
        var candidates = new RandomProductIdCandidates();
        var added = new List<string>(count);
        while (added.Count < count)
        {
            var id = candidates.Draw();
            if (taken.Add(id))
            {
                added.Add(id);
            }
        }

        all.AddRange(added);
        try
        {
            WriteReplacing(path, JsonSerializer.Serialize(all, Indented) + "\n");
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{path} could not be written: {failure.Message}");
            return 1;
        }

        foreach (var id in added)
        {
            output.WriteLine(id);
        }

        return 0;
    }

    private static string? Parse(IReadOnlyList<string> arguments, out int count, out string path)
    {
        count = 0;
        path = "";
        string? countText = null;
        string? file = null;
        for (var i = 0; i < arguments.Count; i += 2)
        {
            var name = arguments[i];
            if (name is not ("--count" or "--file"))
            {
                return $"Unknown argument '{name}'.";
            }

            if (i + 1 >= arguments.Count)
            {
                return $"{name} needs a value.";
            }

            if ((name == "--count" ? countText : file) is not null)
            {
                return $"{name} is given twice.";
            }

            if (name == "--count")
            {
                countText = arguments[i + 1];
            }
            else
            {
                file = arguments[i + 1];
            }
        }

        if (countText is null || file is null)
        {
            return "Both --count and --file are required.";
        }

        if (!int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxCount)
        {
            return $"--count must be a whole number from 1 to {MaxCount}, not '{countText}'.";
        }

        if (string.IsNullOrWhiteSpace(file))
        {
            return "--file must name a file.";
        }

        path = Path.GetFullPath(file);
        return Directory.Exists(path) ? $"--file names a folder: {file}" : null;
    }

    /// <summary>Writes beside the file, then renames over it, so a reader never sees half an array.</summary>
    private static void WriteReplacing(string path, string content)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllText(temporary, content);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
