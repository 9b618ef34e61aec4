using Cpm.Api.Auth;
using Cpm.Api.Http;
using Cpm.Api.Ods;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Status;
using Cpm.Api.Storage;
using Cpm.Api.Ui;

var builder = WebApplication.CreateBuilder(args);

builder.Logging.ClearProviders().AddJsonConsole(options => options.IncludeScopes = true);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddApiKeyAuth(builder.Configuration, builder.Environment);
builder.Services.AddCpmStorage(builder.Configuration);
builder.Services.AddOdsClient(builder.Configuration);
builder.Services.AddProductIds(builder.Configuration);

var app = builder.Build();

app.UseMiddleware<RequestContextMiddleware>();
app.UseContractStatusCodePages();
app.UseSelfServiceUi();

var api = app.MapGroup("").AddEndpointFilter<ApiKeyFilter>();
api.MapStatus();
var versioned = api.MapGroup("").AddEndpointFilter<VersionHeaderFilter>();
versioned.MapProductTeams();
versioned.MapProducts();
app.MapPreflightRequests();

app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
