using Cpm.Api.Pages;
using Microsoft.Extensions.FileProviders;

namespace Cpm.Api.Ui;

/// <summary>
/// The self-service pages: static files from wwwroot/ui served at /ui/ on the service's own
/// origin, so they call the API as any client does, with no CORS and no server-side state.
/// The files are built from this folder (see docs/UI.md) and committed.
/// </summary>
internal static class UiApplicationBuilderExtensions
{
    public static IApplicationBuilder UseSelfServiceUi(this IApplicationBuilder app)
    {
        // wwwroot holds only ui/, so /ui/... maps to wwwroot/ui/... and nothing else is served.
        var files = UiFiles(app.ApplicationServices.GetRequiredService<IWebHostEnvironment>());
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        return app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            // No inline script or style: the pages' own files only.
            OnPrepareResponse = context => PageSecurityHeaders.Apply(context.Context.Response),
        });
    }

    /// <summary>
    /// The web root, or the published app's own wwwroot when the service was started from another
    /// folder (<c>dotnet /opt/cpm/Cpm.Api.dll</c>): the content root is the working directory.
    /// </summary>
    private static IFileProvider UiFiles(IWebHostEnvironment environment)
    {
        var published = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        return environment.WebRootFileProvider.GetDirectoryContents("ui").Exists || !Directory.Exists(published)
            ? environment.WebRootFileProvider
            : new PhysicalFileProvider(published);
    }
}
