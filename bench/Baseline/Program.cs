using System.Text;

// The benchmark's yardstick: the same web stack answering every request with a constant JSON body
// of about a product's size, doing no other work, so the service's ratio to it is its own overhead.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

var body = Encoding.ASCII.GetBytes(
    """{"id": "P.AAA-AAA", "cpm_product_team_id": "00000000-0000-4000-8000-000000000000", "product_team_id": null, "name": "baseline", "ods_code": "BASE", "status": "active", "created_on": "2025-01-30T14:30:18.191643+00:00", "updated_on": null, "deleted_on": null, "keys": []}""");

app.Map("/{**path}", (HttpContext context) =>
{
    var response = context.Response;
    response.ContentType = "application/json";
    response.ContentLength = body.Length;
    return response.Body.WriteAsync(body).AsTask();
});

app.Run();
