using System.Reflection;

namespace Cpm.Api.Docs;

/// <summary>
/// Build-time generation of docs/openapi.json (Microsoft.Extensions.ApiDescription.Server) starts
/// the app through its entry point with a server that never listens. Start-up validation still
/// runs there, and so does the store: that run alone gets a placeholder key, and a SQLite file
/// beside the built assembly instead of one in the working directory. It answers no request.
/// </summary>
internal static class BuildTimeDocument
{
    private static bool IsGenerating => Assembly.GetEntryAssembly()?.GetName().Name == "GetDocument.Insider";

    public static IConfigurationBuilder AddBuildTimeDocumentSettings(this IConfigurationBuilder configuration) =>
        IsGenerating
            ? configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Auth:ApiKeys:0"] = "build-time-openapi-generation",
                ["Storage:Provider"] = "Sqlite",
                ["Storage:Sqlite:Path"] = Path.Combine(Path.GetDirectoryName(typeof(BuildTimeDocument).Assembly.Location)!, "openapi-build.db"),
            })
            : configuration;
}
