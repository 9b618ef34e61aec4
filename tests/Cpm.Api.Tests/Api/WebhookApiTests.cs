using System.Net;
using System.Text.RegularExpressions;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md's webhook subscriptions: create, list, read with delivery state, delete; their errors and the secret that never comes back.</summary>
public abstract partial class WebhookApiTests(CpmService service)
{
    private const string Model = "CreateWebhookIncomingParams";

    // Nothing listens on port 9 (discard): events sent there fail and are retried in the background, harmlessly.
    private const string Url = "http://127.0.0.1:9/hook";

    private readonly CpmClient _admin = service.Client(CpmService.AdminKey);

    [Fact]
    public async Task CreatingAWebhookAnswersItWithoutTheSecretAndItCanBeListedReadAndDeleted()
    {
        var secret = NewSecret();
        var created = await _admin.PostAsync("/Webhooks", $$"""{"url": "{{Url}}", "secret": "{{secret}}", "description": "Caf\u00e9 feed"}""");

        created.AssertStatus(HttpStatusCode.Created);
        var id = (string)created.Json()["id"]!;
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id);
        var createdOn = (string)created.Json()["created_on"]!;
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$", createdOn);
        var subscription = $$"""{"id": "{{id}}", "url": "{{Url}}", "description": "Caf\u00e9 feed", "status": "active", "created_on": "{{createdOn}}"}""";
        Assert.Equal(subscription, created.Body);
        Assert.Equal("application/json", created.Header("Content-Type"));

        var listed = await _admin.GetAsync("/Webhooks");
        listed.AssertStatus(HttpStatusCode.OK);
        Assert.Contains(subscription, listed.Body, StringComparison.Ordinal);

        var read = await _admin.GetAsync($"/Webhooks/{id}");
        read.AssertStatus(HttpStatusCode.OK);
        var end = await service.Services.GetRequiredService<ICpmStore>().ReadFeedEndAsync(CancellationToken.None);
        var deliveredThrough = end == 0 ? "null" : end.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(subscription[..^1] + $$""", "delivered_through": {{deliveredThrough}}, "pending": 0, "last_attempt": null}""", read.Body);

        foreach (var body in new[] { created.Body, listed.Body, read.Body })
        {
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
            Assert.DoesNotContain("secret", body, StringComparison.Ordinal);
        }

        (await _admin.DeleteAsync($"/Webhooks/{id}")).AssertStatus(HttpStatusCode.OK);
        (await _admin.GetAsync($"/Webhooks/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find Webhook for key ('{id}')");
        Assert.DoesNotContain(id, (await _admin.GetAsync("/Webhooks")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletingAnswersResourceDeletedAndASecondDeleteIsNotFound()
    {
        var id = await CreateAsync();

        var deleted = await _admin.DeleteAsync($"/Webhooks/{id}");

        deleted.AssertStatus(HttpStatusCode.OK);
        Assert.Equal($$"""{"code": "RESOURCE_DELETED", "message": "{{id}} has been deleted."}""", deleted.Body);
        (await _admin.DeleteAsync($"/Webhooks/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find Webhook for key ('{id}')");
    }

    [Fact]
    public async Task TheListIsOrderedByCreationTime()
    {
        var first = await CreateAsync();
        var second = await CreateAsync();
        var third = await CreateAsync();

        var ids = IdPattern().Matches((await _admin.GetAsync("/Webhooks")).Body).Select(match => match.Groups[1].Value).ToList();

        Assert.Equal([first, second, third], ids.Where(id => id == first || id == second || id == third));
        Assert.StartsWith("{\"results\": [", (await _admin.GetAsync("/Webhooks")).Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("3F6C1A52-9D4E-4A57-8A0B-6F1C2D3E4F50")]
    [InlineData("3f6c1a52-9d4e-4a57-8a0b-6f1c2d3e4f50")]
    [InlineData("caf\u00e9")]
    public async Task UnknownOrMalformedIdsAreNotFound(string id)
    {
        var path = $"/Webhooks/{Uri.EscapeDataString(id)}";

        (await _admin.GetAsync(path)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find Webhook for key ('{id}')");
        (await _admin.DeleteAsync(path)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find Webhook for key ('{id}')");
    }

    [Fact]
    public async Task AVeryLongIdIsNotFound()
    {
        var id = new string('a', 5000);

        (await _admin.GetAsync($"/Webhooks/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", $"Could not find Webhook for key ('{id}')");
    }

    [Fact]
    public async Task MissingFieldsAreReportedTogether()
    {
        (await _admin.PostAsync("/Webhooks", "{}")).AssertErrors(HttpStatusCode.BadRequest,
            ("MISSING_VALUE", $"{Model}.url: field required"),
            ("MISSING_VALUE", $"{Model}.secret: field required"));
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/hook", $"{Model}.url: URL scheme not permitted")]
    [InlineData("file:///etc/passwd", $"{Model}.url: URL scheme not permitted")]
    [InlineData("/relative/hook", $"{Model}.url: invalid or missing URL scheme")]
    [InlineData("not a url", $"{Model}.url: invalid or missing URL scheme")]
    [InlineData("", $"{Model}.url: ensure this value has at least 1 characters")]
    public async Task UrlsMustBeAbsoluteHttpOrHttps(string url, string message)
    {
        (await _admin.PostAsync("/Webhooks", $$"""{"url": "{{url}}", "secret": "{{NewSecret()}}"}"""))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", message);
    }

    [Fact]
    public async Task EveryFieldErrorIsReportedInDeclarationOrderThenUnknownFields()
    {
        var longUrl = "https://example.org/" + new string('a', 2048 - 19);
        var reply = await _admin.PostAsync("/Webhooks",
            $$"""{"zeta": 1, "url": "{{longUrl}}", "secret": "too-short", "description": "{{new string('d', 256)}}", "alpha": true}""");

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("VALIDATION_ERROR", $"{Model}.url: ensure this value has at most 2048 characters"),
            ("VALIDATION_ERROR", $"{Model}.secret: ensure this value has at least 16 characters"),
            ("VALIDATION_ERROR", $"{Model}.description: ensure this value has at most 255 characters"),
            ("VALIDATION_ERROR", $"{Model}.alpha: extra fields not permitted"),
            ("VALIDATION_ERROR", $"{Model}.zeta: extra fields not permitted"));
    }

    [Fact]
    public async Task LimitsAreInclusiveAndDescriptionMayBeNull()
    {
        var url = "https://example.org/" + new string('a', 2048 - 20);
        var reply = await _admin.PostAsync("/Webhooks", $$"""{"url": "{{url}}", "secret": "{{new string('s', 256)}}", "description": null}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Contains("\"description\": null", reply.Body, StringComparison.Ordinal);
        (await _admin.PostAsync("/Webhooks", $$"""{"url": "{{Url}}", "secret": "{{new string('s', 257)}}"}"""))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{Model}.secret: ensure this value has at most 256 characters");
        (await _admin.PostAsync("/Webhooks", $$"""{"url": "{{Url}}", "secret": "{{new string('s', 16)}}", "description": "{{new string('d', 255)}}"}"""))
            .AssertStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task NonStringValuesAreRefusedAsPydanticDoes()
    {
        (await _admin.PostAsync("/Webhooks", """{"url": null, "secret": ["x"], "description": {}}""")).AssertErrors(HttpStatusCode.BadRequest,
            ("VALIDATION_ERROR", $"{Model}.url: none is not an allowed value"),
            ("VALIDATION_ERROR", $"{Model}.secret: str type expected"),
            ("VALIDATION_ERROR", $"{Model}.description: str type expected"));
    }

    [Fact]
    public async Task InvalidJsonAndNonObjectBodiesGetTheContractsErrors()
    {
        (await _admin.PostAsync("/Webhooks", """{"invalid_array": [}""")).AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Invalid JSON body was provided: line 1 column 20 (char 19)");
        (await _admin.PostAsync("/Webhooks", "[]")).AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Request body must be a JSON object");
    }

    [Fact]
    public async Task EveryRouteNeedsTheAdminScopeCheckedAfterKeyAndVersionAndBeforeValidation()
    {
        var writer = service.Client();
        var reader = service.Client(CpmService.ReaderKey);

        (await writer.PostAsync("/Webhooks", "{}")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Caller 'apikey-0' lacks the 'admin' scope");
        (await reader.GetAsync("/Webhooks")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Caller 'reporting' lacks the 'admin' scope");
        (await reader.GetAsync("/Webhooks/not-a-uuid")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Caller 'reporting' lacks the 'admin' scope");
        (await writer.DeleteAsync("/Webhooks/not-a-uuid")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Caller 'apikey-0' lacks the 'admin' scope");
        (await service.Client(CpmService.AdminKey, version: null).PostAsync("/Webhooks", "{}"))
            .AssertError(HttpStatusCode.BadRequest, "MISSING_VALUE", "Event.headers.version: field required");
        (await service.Client("wrong-key").GetAsync("/Webhooks")).AssertStatus(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task APostRepeatedWithItsRequestIdGetsTheSameAnswerAndCreatesOneSubscription()
    {
        var requestId = Guid.NewGuid().ToString();
        var body = $$"""{"url": "{{Url}}", "secret": "{{NewSecret()}}", "description": "{{requestId}}"}""";

        var first = await _admin.PostAsync("/Webhooks", body, ("X-Request-Id", requestId));
        var again = await _admin.PostAsync("/Webhooks", body, ("X-Request-Id", requestId));
        var different = await _admin.PostAsync("/Webhooks", body.Replace("hook", "other", StringComparison.Ordinal), ("X-Request-Id", requestId));

        first.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(first.Body, again.Body);
        Assert.Equal(HttpStatusCode.Created, again.Status);
        different.AssertError(HttpStatusCode.UnprocessableEntity, "UNPROCESSABLE_ENTITY", $"X-Request-Id '{requestId}' was already used for a different request");
        Assert.Single(IdPattern().Matches((await _admin.GetAsync("/Webhooks")).Body), match => (string)first.Json()["id"]! == match.Groups[1].Value);
        Assert.Equal(1, Regex.Count((await _admin.GetAsync("/Webhooks")).Body, requestId));
    }

    [Fact]
    public async Task TheStoreHoldsTheSecretOnlyEncrypted()
    {
        var secret = NewSecret();
        var id = await CreateAsync(secret);

        var stored = await service.Services.GetRequiredService<ICpmStore>().GetWebhookAsync(id, CancellationToken.None);

        Assert.NotNull(stored);
        Assert.DoesNotContain(secret, stored.ProtectedSecret, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(secret)), stored.ProtectedSecret, StringComparison.Ordinal);
        var export = await _admin.GetAsync("/Export");
        export.AssertStatus(HttpStatusCode.OK);
        Assert.DoesNotContain(secret, export.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(stored.ProtectedSecret, export.Body, StringComparison.Ordinal);
    }

    private static string NewSecret() => "secret-" + Guid.NewGuid().ToString("N");

    private async Task<string> CreateAsync(string? secret = null)
    {
        var reply = await _admin.PostAsync("/Webhooks", $$"""{"url": "{{Url}}", "secret": "{{secret ?? NewSecret()}}"}""");
        reply.AssertStatus(HttpStatusCode.Created);
        return (string)reply.Json()["id"]!;
    }

    [GeneratedRegex("\"id\": \"([0-9a-f-]{36})\"")]
    private static partial Regex IdPattern();
}

public sealed class SqliteWebhookApiTests(SqliteService service) : WebhookApiTests(service), IClassFixture<SqliteService>;
