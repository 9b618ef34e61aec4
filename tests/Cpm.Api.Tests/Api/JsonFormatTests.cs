using System.Net;
using System.Text;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Api;

/// <summary>docs/API.md section 3: Python json.dumps output and json.loads error positions.</summary>
public abstract class JsonFormatTests(CpmService service)
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task NonAsciiIsEscapedInLowercaseHexAndAstralCharactersAsSurrogatePairs()
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "Caf\u00e9 \ud83d\ude00 \u00ff\u20ac"}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Contains("\"name\": \"Caf\\u00e9 \\ud83d\\ude00 \\u00ff\\u20ac\"", reply.Body);
        Assert.All(reply.Body, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public async Task SlashesAnglesAmpersandsAndQuotesAreNotEscapedButDoubleQuotesAndBackslashesAre()
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": "a/b<c>d&e'f\"g\\h"}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Contains("\"name\": \"a/b<c>d&e'f\\\"g\\\\h\"", reply.Body);
    }

    [Fact]
    public async Task UnicodeInErrorMessagesIsEscapedToo()
    {
        var reply = await _client.GetAsync("/Product/P.\u00c5\u00c5\u00c5-AAA");

        Assert.Equal("{\"errors\": [{\"code\": \"RESOURCE_NOT_FOUND\", \"message\": \"Could not find CpmProduct for key ('P.\\u00c5\\u00c5\\u00c5-AAA')\"}]}", reply.Body);
    }

    [Theory]
    [InlineData("""{"invalid_array": [}""", 1, 20, 19)]
    [InlineData("{", 1, 2, 1)]
    [InlineData("{\"a\"", 1, 5, 4)]
    [InlineData("{\"a\": 1,}", 1, 9, 8)]
    [InlineData("{\n  \"name\": x\n}", 2, 11, 12)]
    [InlineData("{\"a\": \"\u00e9\u00e9\" x}", 1, 12, 11)]
    [InlineData("{\"a\": \"\ud83d\ude00\" x}", 1, 11, 10)]
    [InlineData("{} x", 1, 4, 3)]
    [InlineData("{\"a\": \"unterminated", 1, 7, 6)]
    [InlineData("{\"a\": \"tab\there\"}", 1, 11, 10)]
    [InlineData("{\"a\": \"\\x\"}", 1, 8, 7)]
    [InlineData("{\"a\": \"\\u12G4\"}", 1, 9, 8)]
    [InlineData("{'a': 1}", 1, 2, 1)]
    [InlineData("   ", 1, 4, 3)]
    [InlineData("{\"a\": -}", 1, 7, 6)]
    [InlineData("{\"a\": nul}", 1, 7, 6)]
    [InlineData("\ufeff{}", 1, 1, 0)]
    public async Task UnparseableJsonReportsPythonsPosition(string body, int line, int column, int position)
    {
        var reply = await _client.PostAsync("/ProductTeam", body);

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", $"Invalid JSON body was provided: line {line} column {column} (char {position})");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"name\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("NaN")]
    public async Task JsonThatIsNotAnObjectIsRefused(string body)
    {
        var reply = await _client.PostAsync("/ProductTeam", body);

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Request body must be a JSON object");
    }

    [Theory]
    [InlineData("NaN", "nan")]
    [InlineData("Infinity", "inf")]
    [InlineData("-Infinity", "-inf")]
    public async Task PythonsNonStandardNumbersAreAcceptedAsPythonDoes(string literal, string name)
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{Unique.OdsCode()}}", "name": {{literal}}}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal(name, (string)reply.Json()["name"]!);
    }

    [Fact]
    public async Task RepeatedKeysKeepTheLastValue()
    {
        var reply = await _client.PostAsync("/ProductTeam", $$"""{"name": "first", "ods_code": "{{Unique.OdsCode()}}", "name": "second"}""");

        reply.AssertStatus(HttpStatusCode.Created);
        Assert.Equal("second", (string)reply.Json()["name"]!);
    }

    [Fact]
    public async Task InvalidUtf8IsAClearClientError()
    {
        using var content = new ByteArrayContent([.. Encoding.ASCII.GetBytes("{\"name\": \""), 0xff, 0xfe, .. Encoding.ASCII.GetBytes("\"}")]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ProductTeam") { Content = content };
        request.Headers.Add("apikey", CpmService.ApiKey);
        request.Headers.Add("version", "1");

        var response = await _client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"errors": [{"code": "VALIDATION_ERROR", "message": "Invalid JSON body was provided: the body is not valid UTF-8"}]}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LoneSurrogateEscapesAreRefusedBecauseNoStoreCanKeepThem()
    {
        var reply = await _client.PostAsync("/ProductTeam", """{"name": "a\ud800b", "ods_code": "X"}""");

        reply.AssertError(HttpStatusCode.BadRequest, "VALIDATION_ERROR", "Invalid JSON body was provided: line 1 column 12 (char 11)");
    }

    [Fact]
    public async Task DeepNestingIsAClientErrorNotACrash()
    {
        var reply = await _client.PostAsync("/ProductTeam", "{\"a\": " + new string('[', 100_000) + "}");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.StartsWith("""{"errors": [{"code": "VALIDATION_ERROR", "message": "Invalid JSON body was provided: line 1 column """, reply.Body);
    }

    [Fact]
    public async Task BodiesOverOneMebibyteAreRefusedAs413()
    {
        var reply = await _client.PostAsync("/ProductTeam", "{\"name\": \"" + new string('a', 1024 * 1024) + "\"}");

        reply.AssertError(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "Request body is larger than the limit of 1048576 bytes");
    }
}

public sealed class SqliteJsonFormatTests(SqliteService service) : JsonFormatTests(service), IClassFixture<SqliteService>;
