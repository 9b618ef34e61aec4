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
using Cpm.Api.Storage.DynamoDb;
using Cpm.Api.Telemetry;
using Cpm.Api.Ui;
using Cpm.Api.Webhooks;

if (args is [GenerateIdsCommand.Verb, .. var generateArguments])
{
    return GenerateIdsCommand.Run(generateArguments, Console.Out, Console.Error);
}

var import = args is [ImportCommand.Verb, var file, ..] ? file : null;
var migrate = args is [MigrateCommand.Verb, ..];
var builder = WebApplication.CreateBuilder(import is not null ? args[2..] : migrate ? args[1..] : args);

builder.AddCpmLogging();
builder.Configuration.AddBuildTimeDocumentSettings();
builder.Services.AddSingleton(TimeProvider.System);
// Storage first: its start-up (creating a local table) comes before sign-in's, which reads the key ring from it.
builder.Services.AddCpmStorage(builder.Configuration);
builder.Services.AddApiKeyAuth(builder.Configuration, builder.Environment);
builder.Services.AddPersonSignIn(builder.Configuration, builder.Environment);
builder.Services.AddOdsClient(builder.Configuration);
builder.Services.AddProductIds(builder.Configuration);
builder.Services.AddSingleton<KnownTeams>();
builder.Services.AddSingleton<IdempotencyLocks>();
builder.Services.AddWebhooks(builder.Configuration);
builder.Services.AddCpmHealthChecks();
builder.Services.AddGracefulShutdown(builder.Configuration);
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

if (migrate)
{
    var exitCode = await MigrateCommand.RunAsync(app.Services, Console.Out);
    await app.DisposeAsync();
    return exitCode;
}

app.UseMiddleware<RequestContextMiddleware>();
app.UseContractStatusCodePages();
app.UseSelfServiceUi();
app.UsePersonSignIn();

app.MapHealth();
app.MapCpmDocs();
app.MapPersonSignIn();
var api = app.MapGroup("").RequireApiKey();
api.MapStatus().RequireValidRequestIds();
var versioned = api.MapGroup("").RequireVersionHeader().RequireValidRequestIds().RequireScopes();
versioned.MapProductTeams();
versioned.MapProducts();
versioned.MapEvents();
versioned.MapExport();
versioned.MapWebhooks();
app.MapPreflightRequests();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
