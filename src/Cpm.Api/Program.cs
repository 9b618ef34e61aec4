using Cpm.Api.Auth;
using Cpm.Api.Docs;
using Cpm.Api.Events;
using Cpm.Api.Export;
using Cpm.Api.Http;
using Cpm.Api.Ods;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Status;
using Cpm.Api.Storage;
using Cpm.Api.Telemetry;
using Cpm.Api.Ui;
using Cpm.Api.Webhooks;
using Microsoft.Extensions.Configuration.Memory;
using ZLogger;

if (args is [GenerateIdsCommand.Verb, .. var generateArguments])
{
    return GenerateIdsCommand.Run(generateArguments, Console.Out, Console.Error);
}

var import = args is [ImportCommand.Verb, var file, ..] ? file : null;
var builder = WebApplication.CreateBuilder(import is null ? args : args[2..]);

// Log levels that hold wherever the app is started from: appsettings.json is read from the working
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

// One JSON line per log entry on stdout, formatted in UTF-8 and written in batches off the request
// path (the framework's console logger cost half of a GET). If stdout stalls, lines beyond the
// buffer are dropped: blocking would hold request threads that the writer itself needs, and
// growing would spend memory without bound.
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

// The access line (RequestContextMiddleware) replaces the host's request logging. Left on, the host
// opens a log scope and an Activity for every request even when nothing records them: 15% of a GET.
// Spans are still made when tracing is exported, and a failed start is still logged by the generic host.
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
builder.Configuration.AddBuildTimeDocumentSettings();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddApiKeyAuth(builder.Configuration, builder.Environment);
builder.Services.AddCpmStorage(builder.Configuration);
builder.Services.AddOdsClient(builder.Configuration);
builder.Services.AddProductIds(builder.Configuration);
builder.Services.AddSingleton<IdempotencyLocks>();
builder.Services.AddWebhooks(builder.Configuration);
builder.Services.AddCpmHealthChecks();
builder.Services.AddCpmTelemetry(builder.Configuration);
builder.Services.AddCpmOpenApi();

var app = builder.Build();

if (import is not null)
{
    var exitCode = await ImportCommand.RunAsync(app.Services, import, Console.Out);

    // Closes the store and flushes the log's buffer before the process ends.
    await app.DisposeAsync();
    return exitCode;
}

app.UseMiddleware<RequestContextMiddleware>();
app.UseContractStatusCodePages();
app.UseSelfServiceUi();

app.MapHealth();
app.MapCpmDocs();
var api = app.MapGroup("").RequireApiKey();
api.MapStatus();
var versioned = api.MapGroup("").RequireVersionHeader().RequireScopes();
versioned.MapProductTeams();
versioned.MapProducts();
versioned.MapEvents();
versioned.MapExport();
app.MapPreflightRequests();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
