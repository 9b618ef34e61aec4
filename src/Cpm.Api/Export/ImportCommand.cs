using Cpm.Api.Http;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;

namespace Cpm.Api.Export;

/// <summary>
/// <c>dotnet Cpm.Api.dll import FILE [--Storage:...]</c>: loads an export into an empty store of
/// the configured kind, keeping ids, timestamps, versions and history, then exits.
/// </summary>
internal static class ImportCommand
{
    public const string Verb = "import";

    public static async Task<int> RunAsync(IServiceProvider services, string path, TextWriter output)
    {
        var teams = new List<ProductTeam>();
        var products = new List<Product>();
        var events = new List<ChangeEvent>();
        var lineNumber = 0;
        foreach (var text in await File.ReadAllLinesAsync(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                var line = (JsonDict)PythonJsonParser.Parse(text)!;
                switch (line["kind"])
                {
                    case ExportFormat.TeamKind: teams.Add(ExportFormat.ReadTeam(line)); break;
                    case ExportFormat.ProductKind: products.Add(ExportFormat.ReadProduct(line)); break;
                    case ExportFormat.EventKind: events.Add(ExportFormat.ReadEvent(line)); break;
                    default: throw new FormatException($"unknown kind '{line["kind"]}'");
                }
            }
            catch (Exception failure) when (failure is FormatException or InvalidJsonException or InvalidCastException or KeyNotFoundException)
            {
                await output.WriteLineAsync($"{path}:{lineNumber}: {failure.Message}");
                return 1;
            }
        }

        if (Inconsistency(teams, products) is { } inconsistent)
        {
            await output.WriteLineAsync($"{path}: {inconsistent}");
            return 1;
        }

        try
        {
            await services.GetRequiredService<ICpmStore>().ImportAsync(teams, products, events, CancellationToken.None);
        }
        catch (InvalidOperationException refused)
        {
            await output.WriteLineAsync(refused.Message);
            return 2;
        }

        await output.WriteLineAsync($"Imported {teams.Count} teams, {products.Count} products and {events.Count} events from {path}.");
        return 0;
    }

    /// <summary>
    /// What the API guarantees and the stores rely on (search groups a team's products under the
    /// team's organisation): every product's team is in the file and has the product's ODS code.
    /// </summary>
    private static string? Inconsistency(List<ProductTeam> teams, List<Product> products)
    {
        var organisations = teams.ToDictionary(team => team.Id, team => team.OdsCode, StringComparer.Ordinal);
        foreach (var product in products)
        {
            if (!organisations.TryGetValue(product.TeamId, out var odsCode))
            {
                return $"product {product.Id} belongs to team {product.TeamId}, which is not in the file";
            }

            if (odsCode != product.OdsCode)
            {
                return $"product {product.Id} has ods_code '{product.OdsCode}' but its team {product.TeamId} has '{odsCode}'";
            }
        }

        return null;
    }
}
