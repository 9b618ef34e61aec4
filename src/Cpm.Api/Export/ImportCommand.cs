using Cpm.Api.Storage;

namespace Cpm.Api.Export;

/// <summary>
/// <c>dotnet Cpm.Api.dll import FILE [--Storage:...]</c>: loads an export into an empty store of
/// the configured kind, keeping ids, timestamps, versions and history, then exits. A file with any
/// bad line is refused whole (exit 1), naming each line; a store that is not empty, exit 2.
/// </summary>
internal static class ImportCommand
{
    public const string Verb = "import";

    public static async Task<int> RunAsync(IServiceProvider services, string path, TextWriter output)
    {
        if (!File.Exists(path))
        {
            await output.WriteLineAsync($"{path}: no such file");
            return 1;
        }

        var file = await ImportFile.ReadAsync(path, CancellationToken.None);
        if (file.Problems.Count > 0)
        {
            foreach (var problem in file.Problems)
            {
                await output.WriteLineAsync($"{path}: {problem}");
            }

            await output.WriteLineAsync($"{path}: refused, nothing was imported ({file.Problems.Count} bad lines)");
            return 1;
        }

        try
        {
            await services.GetRequiredService<ICpmStore>().ImportAsync(file.Teams, file.Products, file.Events, CancellationToken.None);
        }
        catch (InvalidOperationException refused)
        {
            await output.WriteLineAsync(refused.Message);
            return 2;
        }

        await output.WriteLineAsync($"Imported {file.Teams.Count} teams, {file.Products.Count} products and {file.Events.Count} events from {path}.");
        return 0;
    }
}
