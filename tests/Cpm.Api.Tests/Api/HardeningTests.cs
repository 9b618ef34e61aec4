using System.Net;
using System.Text;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>The hardening rules of docs/API.md: what a stranger can send gets a bounded, clear answer.</summary>
public abstract class HardeningTests(CpmService service)
{
    private const string TeamModel = "CreateProductTeamIncomingParams";
    private const string ProductModel = "CreateCpmProductIncomingParams";
    private const string ControlMessage = "string contains control or formatting characters";
    private const string TooLongMessage = "ensure this value has at most 255 characters";

    private readonly CpmClient _client = service.Client();

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public async Task BodiesAreReadAsJsonWhateverTheContentTypeSays(string? contentType)
    {
        var created = await SendAsync(HttpMethod.Post, "/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "Form Team"}""", contentType);
        created.AssertStatus(HttpStatusCode.Created);
        var team = (string)created.Json()["id"]!;

        var product = await SendAsync(HttpMethod.Post, $"/ProductTeam/{team}/Product", """{"name": "Form Product"}""", contentType);
        product.AssertStatus(HttpStatusCode.Created);

        var renamed = await SendAsync(HttpMethod.Patch, $"/ProductTeam/{team}", """{"name": "Renamed Team"}""", contentType, ("If-Match", "*"));
        renamed.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Renamed Team", (string)renamed.Json()["name"]!);
    }

    [Fact]
    public async Task AFormEncodedBodyThatIsNotJsonGetsTheInvalidJsonAnswer()
    {
        var reply = await SendAsync(HttpMethod.Post, "/ProductTeam", "ods_code=F5H1R&name=Team", "application/x-www-form-urlencoded");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Invalid JSON body was provided: line 1 column 1 (char 0)");
    }

    [Theory]
    [InlineData("X-Request-Id", "caf\u00e9")]
    [InlineData("X-Request-Id", "bell\u0007")]
    [InlineData("X-Request-Id", "del\u007f")]
    [InlineData("X-Correlation-Id", "caf\u00e9")]
    [InlineData("X-Correlation-Id", "tab\there")]
    public async Task IdsThatAreNotPrintableAsciiAreRefusedNotEchoed(string header, string value)
    {
        var reply = await RawAsync("GET", "/Product/P.AAA-AAA", $"{header}: {value}");

        Assert.Equal(400, reply.Status);
        Assert.Equal(ErrorBody("VALIDATION_ERROR", $"{header}: must be printable ASCII of at most 200 characters"), reply.Text);
        Assert.Null(reply.Header(header));
        Assert.Equal("1", reply.Header("Version"));
    }

    [Theory]
    [InlineData("X-Request-Id")]
    [InlineData("X-Correlation-Id")]
    public async Task IdsOfAtMost200PrintableCharactersAreEchoedAndLongerOnesRefused(string header)
    {
        var longest = new string('r', 199) + "~";
        var accepted = await _client.GetAsync("/Product/P.AAA-AAA", (header, longest));
        accepted.AssertStatus(HttpStatusCode.NotFound);
        Assert.Equal(longest, accepted.Header(header));

        var refused = await _client.GetAsync("/Product/P.AAA-AAA", (header, longest + "x"));
        refused.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{header}: must be printable ASCII of at most 200 characters");
        Assert.Null(refused.Header(header));
    }

    [Fact]
    public async Task IdsAreCheckedAfterTheKeyAndTheVersionAndOnEveryRoute()
    {
        var bad = ("X-Request-Id", new string('x', 201));

        (await service.Client(apiKey: "wrong").GetAsync("/Product/P.AAA-AAA", bad)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Invalid apikey");
        (await service.Client(version: "zero").GetAsync("/Product/P.AAA-AAA", bad))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Event.headers.version: value is not a valid integer");
        foreach (var path in new[] { "/_status", "/_ping", "/_ready", "/ProductTeam?organisation_code=X", "/Events" })
        {
            (await _client.GetAsync(path, bad)).AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "X-Request-Id: must be printable ASCII of at most 200 characters");
        }
    }

    [Fact]
    public async Task NamesOfAtMost255CharactersAreAcceptedAndLongerOnesRefusedOnCreateAndRename()
    {
        var longest = new string('n', 255);
        var team = await _client.CreateTeamAsync(name: longest);
        Assert.Equal(longest, (string)team["name"]!);
        var teamId = (string)team["id"]!;
        var product = await _client.CreateProductAsync(teamId, name: longest);
        var tooLong = Reply.PythonJson(longest + "n");

        (await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": {{tooLong}}}"""))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{TeamModel}.name: {TooLongMessage}");
        (await _client.PostAsync($"/ProductTeam/{teamId}/Product", $$"""{"name": {{tooLong}}}"""))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"{ProductModel}.name: {TooLongMessage}");
        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{teamId}", $$"""{"name": {{tooLong}}}""", ("If-Match", "*")))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"UpdateProductTeamIncomingParams.name: {TooLongMessage}");
        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{teamId}/Product/{product["id"]}", $$"""{"name": {{tooLong}}}""", ("If-Match", "*")))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"UpdateCpmProductIncomingParams.name: {TooLongMessage}");
    }

    [Fact]
    public async Task AstralCharactersCountOnceTowardsTheNameLimit()
    {
        var name = string.Concat(Enumerable.Repeat("\ud83d\ude00", 255));

        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": {{Reply.PythonJson(name)}}}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(name, (string)reply.Json()["name"]!);
    }

    [Theory]
    [InlineData("zero\u200bwidth")]
    [InlineData("right\u202eto-left")]
    [InlineData("byte\ufefforder")]
    [InlineData("bell\u0007")]
    [InlineData("c1\u0090control")]
    public async Task TeamNamesWithControlOrFormattingCharactersAreRefusedWithTheOtherFieldErrors(string name)
    {
        var ods = Unique.OdsCode();

        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": {{Reply.PythonJson(name)}}, "extra": 1}""");

        reply.AssertErrors(HttpStatusCode.BadRequest,
            ("VALIDATION_ERROR", $"{TeamModel}.name: {ControlMessage}"),
            ("VALIDATION_ERROR", $"{TeamModel}.extra: extra fields not permitted"));
        Assert.Equal(0, service.Ord.CallsFor(ods));
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team}", $$"""{"name": {{Reply.PythonJson(name)}}}""", ("If-Match", "*")))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"UpdateProductTeamIncomingParams.name: {ControlMessage}");
    }

    [Theory]
    [InlineData("ABC-123")]
    [InlineData("F5H1R ")]
    [InlineData("\u00c4BC")]
    [InlineData("A23456789012345678901234567890123")]
    public async Task OdsCodesThatAreNotOneTo32LettersAndDigitsAreInvalidWithoutAskingOds(string odsCode)
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": {{Reply.PythonJson(odsCode)}}, "name": "Odd Code"}""");

        reply.AssertError(HttpStatusCode.UnprocessableEntity, "UNPROCESSABLE_ENTITY", $"Invalid ODS Code: could not resolve '{service.Ord.BaseUrl}/{odsCode}'");
        Assert.Equal(0, service.Ord.CallsFor(odsCode));
    }

    [Fact]
    public async Task OneCallersBadCodesNeverStopAnotherCallersValidCreates()
    {
        // More "no such code" answers than the circuit breaker's minimum throughput (100 in 30 s):
        // counted as failures, they would open it, and the valid create below would get a 503.
        var huge = new string('Z', 200_000);
        var bad = Enumerable.Range(0, 40).Select(i => _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{huge}}{{i}}", "name": "Flood"}"""))
            .Concat(Enumerable.Range(0, 120).Select(i => _client.PostAsync("/ProductTeam", $$"""{"ods_code": "BAD{{i}}X{{Guid.NewGuid().ToString("N")[..8]}}", "name": "Flood"}""")));

        Assert.All(await Task.WhenAll(bad), reply => reply.AssertStatus(HttpStatusCode.UnprocessableEntity));
        Assert.True(service.Ord.Requests >= 120, "the well-formed unknown codes were asked of ODS");

        var valid = Unique.OdsCode();
        await _client.CreateTeamAsync(valid);
        Assert.Equal(1, service.Ord.CallsFor(valid));
    }

    [Fact]
    public async Task HistoryPagesWithLimitAndCursorAndIsUnchangedWithoutThem()
    {
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        for (var rename = 1; rename <= 4; rename++)
        {
            (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team}", $$"""{"name": "Name {{rename}}"}""", ("If-Match", "*"))).AssertStatus(HttpStatusCode.OK);
        }

        var whole = await _client.GetAsync($"/ProductTeam/{team}/History");
        var walked = new List<string>();
        var pages = new List<string?>();
        string? cursor = null;
        do
        {
            var page = await _client.GetAsync($"/ProductTeam/{team}/History?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}");
            page.AssertStatus(HttpStatusCode.OK);
            Assert.Equal(["events", "next_cursor"], page.Json().Select(property => property.Key));
            walked.AddRange(page.Json()["events"]!.AsArray().Select(e => e!.ToJsonString()));
            cursor = (string?)page.Json()["next_cursor"];
            pages.Add(cursor);
        }
        while (cursor is not null);

        Assert.Equal(["events"], whole.Json().Select(property => property.Key));
        Assert.Equal(whole.Json()["events"]!.AsArray().Select(e => e!.ToJsonString()), walked);
        Assert.Equal(5, walked.Count);
        Assert.Equal(3, pages.Count);
    }

    [Fact]
    public async Task HistoryRefusesBadLimitsAndForgedOrForeignCursorsAndIgnoresOtherParameters()
    {
        var team = (string)(await _client.CreateTeamAsync())["id"]!;
        var product = (string)(await _client.CreateProductAsync(team))["id"]!;
        (await _client.SendAsync(HttpMethod.Patch, $"/ProductTeam/{team}", """{"name": "Again"}""", ("If-Match", "*"))).AssertStatus(HttpStatusCode.OK);
        var teamCursor = (string)(await _client.GetAsync($"/ProductTeam/{team}/History?limit=1")).Json()["next_cursor"]!;

        (await _client.GetAsync($"/ProductTeam/{team}/History?limit=0"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "HistoryQueryParams.limit: ensure this value is greater than or equal to 1");
        (await _client.GetAsync($"/Product/{product}/History?limit=1001"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "HistoryQueryParams.limit: ensure this value is less than or equal to 1000");
        (await _client.GetAsync($"/ProductTeam/{team}/History?cursor={teamCursor}"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "HistoryQueryParams.__root__: cursor requires limit");
        (await _client.GetAsync($"/Product/{product}/History?limit=1&cursor={teamCursor}"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "HistoryQueryParams.cursor: invalid cursor");
        (await _client.GetAsync($"/ProductTeam/{team}/History?limit=1&cursor={teamCursor}x"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "HistoryQueryParams.cursor: invalid cursor");
        Assert.Equal(
            (await _client.GetAsync($"/ProductTeam/{team}/History")).Body,
            (await _client.GetAsync($"/ProductTeam/{team}/History?since=yesterday")).Body);
        (await _client.GetAsync("/ProductTeam/no-such-team/History?limit=0"))
            .AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "HistoryQueryParams.limit: ensure this value is greater than or equal to 1");
    }

    private async Task<Reply> SendAsync(HttpMethod method, string path, string body, string? contentType, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Headers.Add("apikey", CpmService.ApiKey);
        request.Headers.Add("version", "1");
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await _client.Http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return new Reply(response.StatusCode, Encoding.UTF8.GetString(bytes), bytes.Length, response);
    }

    /// <summary>Exactly these header bytes (UTF-8), which no HTTP client would send as they are.</summary>
    private async Task<RawResponse> RawAsync(string method, string target, string header)
    {
        var request = RawHttp.Request(method, target, [$"apikey: {CpmService.ApiKey}", "version: 1"]);
        var head = Encoding.UTF8.GetBytes($"{header}\r\n");
        var bytes = request[..^2].Concat(head).Concat("\r\n"u8.ToArray()).ToArray();
        return await RawHttp.SendAsync(_client.Http.BaseAddress!.Port, bytes);
    }

    private static string ErrorBody(string code, string message) =>
        $$"""{"errors": [{"code": "{{code}}", "message": {{Reply.PythonJson(message)}}}]}""";
}

public sealed class SqliteHardeningTests(SqliteService service) : HardeningTests(service), IClassFixture<SqliteService>;
