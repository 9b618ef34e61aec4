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
using ZLogger;

var import = args is [ImportCommand.Verb, var file, ..] ? file : null;
var builder = WebApplication.CreateBuilder(import is null ? args : args[2..]);

// One JSON line per log entry on stdout, formatted in UTF-8 and written in batches off the request
// path (the framework's console logger cost half of a GET); a full buffer holds the writer back
// rather than dropping lines.
builder.Logging.ClearProviders().AddZLoggerConsole(options =>
{
    options.IncludeScopes = true;
    options.FullMode = BackgroundBufferFullMode.Block;
    options.InternalErrorLogger = failure => Console.Error.WriteLine($"A log entry could not be written: {failure}");
    options.UseJsonFormatter(formatter =>
    {
        formatter.UseUtcTimestamp = true;
        formatter.JsonSerializerOptions.Converters.Add(new LogValueConverter());
    });
});

// The access line (RequestContextMiddleware) replaces the host's request logging. Left on, the host
// opens a log scope and an Activity for every request even when nothing records them: 15% of a GET.
// Spans are still made when tracing is exported, and start-up failures are logged by the host.
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
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
    return await ImportCommand.RunAsync(app.Services, import, Console.Out);
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
