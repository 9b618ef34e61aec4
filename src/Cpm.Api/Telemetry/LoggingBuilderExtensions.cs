using Microsoft.Extensions.Configuration.Memory;
using ZLogger;

namespace Cpm.Api.Telemetry;

internal static class LoggingBuilderExtensions
{
    /// <summary>
    /// One JSON line per log entry on stdout, formatted in UTF-8 and written in batches off the
    /// request path. If stdout stalls, lines beyond the buffer are dropped: blocking would hold
    /// request threads that the writer itself needs, and growing would spend memory without bound.
    /// </summary>
    public static WebApplicationBuilder AddCpmLogging(this WebApplicationBuilder builder)
    {
        // Levels that hold wherever the app is started from: appsettings.json is read from the working
        // directory, which is not the app's folder for `dotnet /app/Cpm.Api.dll`, and without these the
        // framework logs several lines a request. Any configuration source still overrides them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
                ["Logging:LogLevel:Polly"] = "Warning",
            },
        });

        builder.Logging.ClearProviders().AddZLoggerConsole(options =>
        {
            options.IncludeScopes = true;
            options.FullMode = BackgroundBufferFullMode.Drop;
            options.BackgroundBufferCapacity = 32_768;
            options.InternalErrorLogger = failure => Console.Error.WriteLine($"A log entry could not be written: {failure}");
            options.UseJsonFormatter(formatter =>
            {
                formatter.UseUtcTimestamp = true;
                formatter.JsonSerializerOptions.Converters.Add(new LogValueConverter());
            });
        });

        // The access line (RequestContextMiddleware) replaces the host's request logging: left on, the
        // host opens a log scope and an Activity for every request even when nothing records them.
        // Spans are still made when tracing is exported, and a failed start is still logged by the host.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        return builder;
    }
}
