using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cpm.Api.Http;
using Cpm.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Reliability;

/// <summary>
/// Malformed requests over a real socket to the real service process: each gets its exact
/// expected answer (status and first error code, or Kestrel's own refusal of broken HTTP: no
/// body, no <c>Version</c> header), never a hang, always the contract's error body for errors our
/// code writes. The service stays healthy.
/// </summary>
public sealed class AbuseTests(RealService service, ITestOutputHelper output) : IClassFixture<RealService>
{
    private const string WrongKey = "wrong-key-3e8a77c1";
    private const int FuzzCases = 200;

    private static readonly string[] Headers = [$"apikey: {RealService.ApiKey}", "version: 1", "Content-Type: application/json"];

    private static readonly Expect Ok = Expect.Ours(200);
    private static readonly Expect Created = Expect.Ours(201);
    private static readonly Expect Invalid = Expect.Ours(400, "VALIDATION_ERROR");
    private static readonly Expect Missing = Expect.Ours(400, "MISSING_VALUE");
    private static readonly Expect Denied = Expect.Ours(403, "ACCESS_DENIED");
    private static readonly Expect NotFound = Expect.Ours(404, "RESOURCE_NOT_FOUND");
    private static readonly Expect PreconditionFailed = Expect.Ours(412, "PRECONDITION_FAILED");
    private static readonly Expect TooLarge = Expect.Ours(413, "PAYLOAD_TOO_LARGE");
    private static readonly Expect Unprocessable = Expect.Ours(422, "UNPROCESSABLE_ENTITY");

    private readonly int _port = new Uri(service.Process.BaseUrl).Port;
    private readonly Outcomes _outcomes = new();

    [Fact]
    public async Task MalformedBodiesGetTheirExactAnswerNeverA5xx()
    {
        var (team, _) = await SeedAsync();
        foreach (var (name, body, onTeams, onProducts) in MalformedBodies())
        {
            await SendAsync($"POST /ProductTeam {name}", RawHttp.Request("POST", "/ProductTeam", Headers, body), onTeams);
            await SendAsync($"POST /ProductTeam/{{team}}/Product {name}", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", Headers, body), onProducts);
        }

        // A GET ignores its body, whatever it is.
        foreach (var target in new[] { $"/ProductTeam/{team}", "/Product?organisation_code=X", "/_status" })
        {
            foreach (var (name, body, _, _) in MalformedBodies().Take(12))
            {
                await SendAsync($"GET {target} with body {name}", RawHttp.Request("GET", target, Headers, body), Ok);
            }
        }

        await FinishAsync();
    }

    [Fact]
    public async Task FuzzedBodiesGetWhatTheRequestRulesSayNeverA5xx()
    {
        var (team, _) = await SeedAsync();
        var seeds = new (string Target, byte[] Body)[]
        {
            ($"/ProductTeam/{team}/Product", """{"name": "Fuzzed Product"}"""u8.ToArray()),
            ("/ProductTeam", """{"ods_code": "FUZZ", "name": "Fuzzed Team", "keys": [{"key_type": "product_team_id", "key_value": "7d2e5b0c-3a41-4c8e-9f10-2b6a7c8d9e0f"}]}"""u8.ToArray()),
        };

        // Seeded, so a failure can be replayed; varied, so each run is the same few hundred cases.
        var random = new Random(20250130);
        for (var i = 0; i < FuzzCases; i++)
        {
            var (target, seed) = seeds[i % seeds.Length];
            var body = Mutate(seed, random);
            await SendAsync($"POST {target} fuzz #{i} {Convert.ToBase64String(body)}", RawHttp.Request("POST", target, Headers, body),
                FuzzOracle.Expected(team: target == "/ProductTeam", body));
        }

        await FinishAsync();
    }

    [Fact]
    public async Task OddPathsMethodsAndQueriesGetTheirExactAnswer()
    {
        var (team, product) = await SeedAsync();
        (string Path, Expect Answer)[] paths =
        [
            ("/ProductTeam/%2e%2e", NotFound), ("/ProductTeam/%2E%2E/%2E%2E/_status", Ok), ("/ProductTeam/..%2f..%2f_status", NotFound),
            ("/ProductTeam/../../etc/passwd", NotFound), ("/Product/%2F", NotFound), ("/Product/a%2Fb", NotFound), ("/Product/%ff%fe", NotFound),
            ("/Product/%ED%A0%80", NotFound), ("/Product/%C0%AF", NotFound), ("/Product/%zz", NotFound), ("/ProductTeam/caf%C3%A9", NotFound),
            ("/ProductTeam/\u00e9t\u00e9", Expect.Kestrel(400)), ("/ProductTeam/%F0%9F%98%80", NotFound), ("/ProductTeam/%E2%80%AE", NotFound),
            ("//", NotFound), ("//ProductTeam", NotFound), ("///ProductTeam//Product", NotFound), ("/ProductTeam//Product", NotFound),
            ($"/ProductTeam/{team}//Product", NotFound), ("/ProductTeam/" + new string('a', 6000), NotFound),
            ("/Product/" + string.Concat(Enumerable.Repeat("%41", 2000)), NotFound), ("/_status/", Ok), ("/_STATUS", Ok), ("/producTteam/x", NotFound),
            ("/ProductTeam/x;y", NotFound), ("/ProductTeam/x%0d%0aSet-Cookie:%20a=b", NotFound), ("/ProductTeam/%20", NotFound),

            // Kestrel removes the dot segment: the team listing without its parameter, and a search without one.
            ("/ProductTeam/.", Missing), ("/Product/.", Invalid),
            ("/nothing/here", NotFound), ("/favicon.ico", NotFound), ("*", Expect.Kestrel(405)), ($"http://127.0.0.1/ProductTeam/{team}", Ok),
        ];
        foreach (var (path, answer) in paths)
        {
            var reply = await SendAsync($"GET {path}", RawHttp.Request("GET", path, Headers), answer);
            Assert.Null(reply.Header("Set-Cookie"));
        }

        // PATCH routes validate the body first (the name 42 is read as "42"; ods_code and extra are not permitted).
        string[] patchable = [$"/ProductTeam/{team}", $"/ProductTeam/{team}/Product/{product}"];
        string[] postable = ["/ProductTeam", $"/ProductTeam/{team}/Product"];
        string[] routes = ["/ProductTeam", $"/ProductTeam/{team}", $"/ProductTeam/{team}/Product", $"/ProductTeam/{team}/Product/{product}", "/Product", $"/Product/{product}", "/_status"];
        foreach (var route in routes)
        {
            foreach (var method in new[] { "PUT", "PATCH", "TRACE", "HEAD", "FOO", "POST", "CONNECT" })
            {
                var destructive = method is "POST" or "PATCH" or "PUT";
                var body = destructive ? "{\"name\": 42, \"ods_code\": [], \"extra\": {}}"u8.ToArray() : null;
                var answer = (method, route) switch
                {
                    ("POST", _) when postable.Contains(route) => Invalid,
                    ("PATCH", _) when patchable.Contains(route) => Invalid,
                    ("HEAD", _) => Expect.Ours(405),
                    _ => Expect.Ours(405, "METHOD_NOT_ALLOWED"),
                };
                await SendAsync($"{method} {route}", RawHttp.Request(method, route, Headers, body), answer);
            }
        }

        (string Query, Expect Answer)[] queries =
        [
            ("/Product?product_team_id=a&product_team_id=b", Ok), ("/Product?organisation_code=x&organisation_code=", Ok),
            ("/Product?product_team_id=a&organisation_code=b", Invalid), ("/ProductTeam?organisation_code=a&organisation_code=b", Ok),
            ("/Product?" + string.Join('&', Enumerable.Repeat("organisation_code=X", 300)), Ok), ("/Product?organisation_code[]=x", Invalid),
            ("/Product?=x", Invalid), ("/Product?&&&", Invalid), ("/Product?organisation_code=%ff", Ok), ("/Product?organisation_code=%zz", Ok),
            ("/Product?%=x", Invalid), ("/Product?organisation_code=%00", Ok), ("/ProductTeam?organisation_code", Ok), ("/Product?a=1&b=2&c=3", Invalid),
            ($"/ProductTeam/{team}?x=1&x=2", Ok), ("/Events?after=-1", Invalid), ("/Events?after=99999999999999999999999", Invalid),
            ("/Events?limit=0", Invalid), ("/Events?limit=1e3", Invalid), ("/Events?limit=99999999999999999999", Invalid), ("/Events?after=abc&after=1", Ok),
            ("/Events?after=%ff", Invalid), ("/ProductTeam?organisation_code=X&limit=0", Invalid), ("/ProductTeam?organisation_code=X&limit=-1", Invalid),
            ("/ProductTeam?organisation_code=X&limit=1001", Invalid), ("/ProductTeam?organisation_code=X&limit=1&cursor=forged", Invalid),
            ("/ProductTeam?organisation_code=X&limit=1&cursor=%ff", Invalid), ("/Product?organisation_code=X&cursor=x", Invalid),
            ("/Product?organisation_code=X&limit=1&cursor=" + new string('c', 4000), Invalid), ($"/ProductTeam/{team}?include_deleted=maybe", Invalid),
            ($"/Product/{product}?include_deleted=TRUE", Invalid), ($"/Product/{product}?include_deleted=true&include_deleted=false", Ok),
            ($"/ProductTeam/{team}/History?limit=1", Ok), ($"/Product/{product}/History?x=1", Ok), ("/Export", Expect.Ours(403, "ACCESS_DENIED")),
        ];
        foreach (var (query, answer) in queries)
        {
            await SendAsync($"GET {query}", RawHttp.Request("GET", query, Headers), answer);
        }

        (await service.Client().GetAsync($"/Product/{product}")).AssertStatus(HttpStatusCode.OK);
        await FinishAsync();
    }

    [Fact]
    public async Task BrokenHttpAndOversizedHeadersGetTheirExactAnswerNeverA5xx()
    {
        var (team, _) = await SeedAsync();
        var cases = new (string Name, byte[] Request, Expect Answer)[]
        {
            ("header of 40 KB", RawHttp.Request("GET", "/_status", [.. Headers, "X-Big: " + new string('x', 40_000)]), Expect.Kestrel(431)),
            ("150 headers", RawHttp.Request("GET", "/_status", [.. Headers, .. Enumerable.Range(0, 150).Select(i => $"X-H{i}: {i}")]), Expect.Kestrel(431)),
            ("request line of 20 KB", RawHttp.Request("GET", "/ProductTeam/" + new string('b', 20_000), Headers), Expect.Kestrel(414)),
            ("apikey of 30 KB", RawHttp.Request("GET", "/_status", ["apikey: " + new string('k', 30_000), "version: 1"]), Denied),
            ("apikey twice", RawHttp.Request("GET", "/_status", [$"apikey: {RealService.ApiKey}", $"apikey: {WrongKey}"]), Denied),
            ("version of 10,000 digits", RawHttp.Request("GET", $"/ProductTeam/{team}", [$"apikey: {RealService.ApiKey}", "version: " + new string('9', 10_000)]), Invalid),
            ("non-ASCII version", RawHttp.Request("GET", $"/ProductTeam/{team}", [$"apikey: {RealService.ApiKey}", "version: \u00d9\u00a1"]), Invalid),
            ("non-ASCII apikey", RawHttp.Request("GET", "/_status", ["apikey: caf\u00c3\u00a9"]), Denied),

            // docs/API.md: a request id longer than 200 characters is refused.
            ("X-Request-Id of 16 KB", RawHttp.Request("GET", "/_status", [.. Headers, "X-Request-Id: " + new string('r', 16_000)]), Invalid),
            ("no Host", Encoding.ASCII.GetBytes($"GET /_status HTTP/1.1\r\napikey: {RealService.ApiKey}\r\n\r\n"), Expect.Kestrel(400)),
            ("HTTP/1.0 without Host", Encoding.ASCII.GetBytes($"GET /_status HTTP/1.0\r\napikey: {RealService.ApiKey}\r\n\r\n"), Ok),
            ("garbage request line", "HELLO THERE\r\n\r\n"u8.ToArray(), Expect.Kestrel(400)),
            ("unknown HTTP version", Encoding.ASCII.GetBytes($"GET /_status HTTP/9.9\r\nHost: x\r\napikey: {RealService.ApiKey}\r\n\r\n"), Expect.Kestrel(505)),
            ("NUL in path", RawHttp.Request("GET", "/ProductTeam/%00", Headers), Expect.Kestrel(400)),
            ("raw space in path", RawHttp.Request("GET", "/Product Team", Headers), Expect.Kestrel(400)),
            ("obsolete folded header", RawHttp.Request("GET", "/_status", [.. Headers, "X-Fold: a", " b"]), Expect.Kestrel(400)),
            ("header without colon", RawHttp.Request("GET", "/_status", [.. Headers, "NoColonHere"]), Expect.Kestrel(400)),
            ("Content-Length not a number", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Content-Length: abc"], "{}"u8.ToArray()), Expect.Kestrel(400)),
            ("negative Content-Length", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Content-Length: -1"], "{}"u8.ToArray()), Expect.Kestrel(400)),
            ("two Content-Lengths", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Content-Length: 2", "Content-Length: 3"], "{}"u8.ToArray()), Expect.Kestrel(400)),

            // Chunked wins over Content-Length: the body is {}, so both team fields are missing.
            ("Content-Length and chunked", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Content-Length: 2", "Transfer-Encoding: chunked"], "2\r\n{}\r\n0\r\n\r\n"u8.ToArray()), Missing),
            ("bad chunk size", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Transfer-Encoding: chunked"], "zz\r\n{}\r\n0\r\n\r\n"u8.ToArray()), Invalid),
            ("chunk longer than said", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "Transfer-Encoding: chunked"], "1\r\n{\"name\": \"x\"}\r\n0\r\n\r\n"u8.ToArray()), Invalid),
            ("unknown transfer coding", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Transfer-Encoding: gzip"], "{}"u8.ToArray()), Expect.Kestrel(400)),
            ("Expect 100-continue", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "Expect: 100-continue"], "{\"name\": \"Expecting\"}"u8.ToArray()), Created),
            ("If-Match of 23 digits", RawHttp.Request("PATCH", $"/ProductTeam/{team}", [.. Headers, "If-Match: W/\"99999999999999999999999\""], "{\"name\": \"Renamed\"}"u8.ToArray()), PreconditionFailed),
            ("If-Match of a lone quote", RawHttp.Request("PATCH", $"/ProductTeam/{team}", [.. Headers, "If-Match: \""], "{\"name\": \"Renamed\"}"u8.ToArray()), PreconditionFailed),
            ("If-Match list", RawHttp.Request("PATCH", $"/ProductTeam/{team}", [.. Headers, "If-Match: \"0\", W/\"-1\", *"], "{\"name\": \"Renamed\"}"u8.ToArray()), Ok),
            ("X-Request-Id reused for another body", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "X-Request-Id: reused-1"], "{\"name\": \"Other\"}"u8.ToArray()), Unprocessable),

            // Content-Encoding is not applied to request bodies: this one is read as the plain JSON it is.
            ("Content-Encoding gzip on plain JSON", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "Content-Encoding: gzip"], "{\"name\": \"Zipped\"}"u8.ToArray()), Created),
        };
        await SendAsync("X-Request-Id first use", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "X-Request-Id: reused-1"], "{\"name\": \"First\"}"u8.ToArray()), Created);
        foreach (var (name, request, answer) in cases)
        {
            await SendAsync(name, request, answer);
        }

        await FinishAsync();
    }

    [Fact]
    public async Task BodiesOverOneMebibyteGet413PayloadTooLargeWithoutBeingRead()
    {
        var (team, _) = await SeedAsync();
        var productPath = $"/ProductTeam/{team}/Product";
        const string tooLarge = "Request body is larger than the limit of 1048576 bytes";

        var justOver = Padded("{\"name\": \"Big\"}", RequestBody.MaxBytes + 1);
        var over = await SendAsync("1 MiB + 1 byte", RawHttp.Request("POST", productPath, Headers, justOver), TooLarge);
        AssertContractError(over, "PAYLOAD_TOO_LARGE", tooLarge);

        var chunked = Chunked(Padded("{\"name\": \"Big\"}", 2 * RequestBody.MaxBytes));
        var overChunked = await SendAsync("2 MiB chunked", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Transfer-Encoding: chunked"], chunked), TooLarge);
        AssertContractError(overChunked, "PAYLOAD_TOO_LARGE", tooLarge);

        // 50 MB announced, 20 bytes sent: the answer comes at once, so the body is never waited for.
        var stopwatch = Stopwatch.StartNew();
        var announced = await SendAsync("50 MB announced", RawHttp.Request("POST", productPath, [.. Headers, "Content-Length: 50000000"], "{\"name\": \"Liar\"}    "u8.ToArray()), TooLarge);
        AssertContractError(announced, "PAYLOAD_TOO_LARGE", tooLarge);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3));

        var atLimit = Padded("{\"name\": \"Exactly One Mebibyte\"}", RequestBody.MaxBytes);
        await SendAsync("exactly 1 MiB", RawHttp.Request("POST", productPath, Headers, atLimit), Created);

        await FinishAsync();
    }

    /// <summary>
    /// Each body with the answer the contract gives it on POST /ProductTeam and on POST
    /// /ProductTeam/{id}/Product: anything that is not a JSON object, or not valid JSON, is a 400
    /// VALIDATION_ERROR; a missing required field (ods_code comes first on teams) is MISSING_VALUE.
    /// </summary>
    private static IEnumerable<(string Name, byte[] Body, Expect OnTeams, Expect OnProducts)> MalformedBodies()
    {
        static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
        static byte[] Bytes(string prefix, byte[] middle, string suffix) => [.. B(prefix), .. middle, .. B(suffix)];

        yield return ("array", B("[]"), Invalid, Invalid);
        yield return ("array of objects", B("[{\"name\": \"x\"}]"), Invalid, Invalid);
        yield return ("number", B("1"), Invalid, Invalid);
        yield return ("string", B("\"text\""), Invalid, Invalid);
        yield return ("null", B("null"), Invalid, Invalid);
        yield return ("true", B("true"), Invalid, Invalid);
        yield return ("negative zero", B("-0"), Invalid, Invalid);
        yield return ("whitespace only", B("  \n\t "), Invalid, Invalid);
        yield return ("invalid UTF-8 0xff", Bytes("{\"name\": \"a", [0xff, 0xfe], "\"}"), Invalid, Invalid);
        yield return ("overlong UTF-8", Bytes("{\"name\": \"", [0xc0, 0xaf], "\"}"), Invalid, Invalid);
        yield return ("UTF-8 encoded surrogate", Bytes("{\"name\": \"", [0xed, 0xa0, 0x80], "\"}"), Invalid, Invalid);
        yield return ("truncated UTF-8", Bytes("{\"name\": \"", [0xe2, 0x82], "\"}"), Invalid, Invalid);
        yield return ("byte order mark", Bytes("", [0xef, 0xbb, 0xbf], "{\"name\": \"x\"}"), Invalid, Invalid);
        yield return ("UTF-16 body", Encoding.Unicode.GetBytes("{\"name\": \"x\"}"), Invalid, Invalid);
        yield return ("100k [", B(new string('[', 100_000)), Invalid, Invalid);
        yield return ("100k [ then ]", B(new string('[', 100_000) + new string(']', 100_000)), Invalid, Invalid);
        yield return ("50k nested objects", B(string.Concat(Enumerable.Repeat("{\"a\": ", 50_000))), Invalid, Invalid);
        yield return ("deep value under name", B("{\"name\": " + new string('[', 100_000) + "}"), Invalid, Invalid);

        // Python's json reads NaN and Infinity as floats, which become the strings "nan" and "inf":
        // a product may be called "nan". On teams, "-inf" is no ODS code (contract section 10).
        yield return ("NaN name", B("{\"name\": NaN}"), Missing, Created);
        yield return ("Infinity name", B("{\"name\": Infinity, \"ods_code\": -Infinity}"), Unprocessable, Invalid);
        yield return ("NaN everywhere", B("{\"name\": NaN, \"ods_code\": NaN, \"keys\": NaN}"), Invalid, Invalid);
        yield return ("1e999", B("{\"name\": 1e999, \"ods_code\": -1e999}"), Unprocessable, Invalid);
        yield return ("5,000-digit integer", B("{\"name\": " + new string('7', 5_000) + "}"), Invalid, Invalid);
        yield return ("raw NUL in string", B("{\"name\": \"a\u0000b\"}"), Invalid, Invalid);
        yield return ("raw control characters", B("{\"name\": \"\u0001\u001f\"}"), Invalid, Invalid);
        yield return ("raw newline in string", B("{\"name\": \"a\nb\"}"), Invalid, Invalid);

        // A team name with a control character is refused before ODS is asked (contract section 10).
        yield return ("escaped NUL", B("{\"name\": \"a\\u0000b\", \"ods_code\": \"\\u0000\"}"), Invalid, Invalid);
        yield return ("DEL character", B("{\"name\": \"\u007f\"}"), Missing, Invalid);
        yield return ("lone high surrogate", B("{\"name\": \"\\ud800\"}"), Invalid, Invalid);
        yield return ("lone low surrogate", B("{\"name\": \"\\udc00x\", \"ods_code\": \"\\udfff\"}"), Invalid, Invalid);
        yield return ("reversed surrogate pair", B("{\"name\": \"\\udc00\\ud800\"}"), Invalid, Invalid);
        yield return ("bad escape", B("{\"name\": \"\\x41\"}"), Invalid, Invalid);
        yield return ("short unicode escape", B("{\"name\": \"\\u12\"}"), Invalid, Invalid);
        yield return ("non-hex unicode escape", B("{\"name\": \"\\uZZZZ\"}"), Invalid, Invalid);
        yield return ("unterminated string", B("{\"name\": \"abc"), Invalid, Invalid);
        yield return ("trailing garbage", B("{\"name\": \"x\"} x"), Invalid, Invalid);
        yield return ("two objects", B("{}{}"), Invalid, Invalid);
        yield return ("trailing comma", B("{\"name\": \"x\",}"), Invalid, Invalid);
        yield return ("single quotes", B("{'name': 'x'}"), Invalid, Invalid);

        // The last of duplicate keys wins, as in Python: the name is null.
        yield return ("duplicate keys", B("{\"name\": \"a\", \"name\": \"b\", \"name\": null}"), Missing, Invalid);
        yield return ("empty key", B("{\"\": 1}"), Missing, Missing);
        yield return ("key of 500 KB", B("{\"" + new string('k', 500_000) + "\": 1}"), Missing, Missing);
        yield return ("300k array items", B("[" + string.Join(',', Enumerable.Repeat('1', 300_000)) + "]"), Invalid, Invalid);
        yield return ("object name", B("{\"name\": {\"a\": 1}, \"ods_code\": {}}"), Invalid, Invalid);
        yield return ("keys of junk", B("{\"ods_code\": \"X\", \"name\": \"T\", \"keys\": [null, 1, \"x\", {}, [], {\"key_type\": null}]}"), Invalid, Invalid);
        yield return ("keys not a list", B("{\"ods_code\": \"X\", \"name\": \"T\", \"keys\": {\"key_type\": \"product_team_id\"}}"), Invalid, Invalid);

        // Names over 255 characters are refused (contract section 10).
        yield return ("name of 500 KB", B("{\"name\": \"" + new string('n', 500_000) + "\", \"ods_code\": \"" + new string('o', 100_000) + "\"}"), Invalid, Invalid);
    }

    /// <summary>One to four random edits biased towards the bytes that matter to a JSON parser.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        byte[] interesting = [0x00, 0x1f, (byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)':', (byte)',',
            (byte)'u', (byte)'e', (byte)'-', (byte)'0', (byte)'N', 0x7f, 0x80, 0xc3, 0xed, 0xef, 0xff];
        var bytes = seed.ToList();
        for (var edits = random.Next(1, 5); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            var value = random.Next(3) == 0 ? (byte)random.Next(256) : interesting[random.Next(interesting.Length)];
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = value;
                    break;
                case 1:
                    bytes.Insert(at, value);
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                default:
                    bytes.InsertRange(at, bytes.Skip(at).Take(random.Next(1, 12)).ToList());
                    break;
            }
        }

        return [.. bytes];
    }

    private static byte[] Padded(string json, int length)
    {
        var text = json[..^1] + new string(' ', length - json.Length) + "}";
        return Encoding.ASCII.GetBytes(text);
    }

    private static byte[] Chunked(byte[] body)
    {
        using var chunks = new MemoryStream();
        foreach (var chunk in body.Chunk(64 * 1024))
        {
            chunks.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
            chunks.Write(chunk);
            chunks.Write("\r\n"u8);
        }

        chunks.Write("0\r\n\r\n"u8);
        return chunks.ToArray();
    }

    private static void AssertContractError(RawResponse reply, string code, string message)
    {
        Assert.Equal($$"""{"errors": [{"code": "{{code}}", "message": "{{message}}"}]}""", reply.Text);
        Assert.Equal("application/json", reply.Header("Content-Type"));
    }

    private async Task<(string Team, string Product)> SeedAsync()
    {
        var client = service.Client();
        var team = (string)(await client.CreateTeamAsync())["id"]!;
        var product = (string)(await client.CreateProductAsync(team))["id"]!;
        return (team, product);
    }

    private async Task<RawResponse> SendAsync(string name, byte[] request, Expect expected)
    {
        var stopwatch = Stopwatch.StartNew();
        RawResponse reply;
        try
        {
            reply = await RawHttp.SendAsync(_port, request);
        }
        catch (Exception failure) when (failure is TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            _outcomes.Problem(name, $"no answer: {failure.Message[..Math.Min(200, failure.Message.Length)]}");
            return new RawResponse(0, new Dictionary<string, string>(), []);
        }

        _outcomes.Record(name, reply, stopwatch.Elapsed, expected);
        return reply;
    }

    private async Task FinishAsync()
    {
        output.WriteLine(_outcomes.Summary());
        Assert.True(_outcomes.Problems.Count == 0, string.Join('\n', _outcomes.Problems));

        var client = service.Client();
        (await client.GetAsync("/_status")).AssertStatus(HttpStatusCode.OK);
        var team = (string)(await client.CreateTeamAsync())["id"]!;
        var lastRequest = Guid.NewGuid().ToString();
        (await client.PostAsync($"/ProductTeam/{team}/Product", """{"name": "After The Batch"}""", ("X-Request-Id", lastRequest))).AssertStatus(HttpStatusCode.Created);

        // Lines are written in order, so once the last request's line is out, the whole batch's are.
        var log = await service.Process.OutputOnceItContainsAsync(lastRequest);
        Assert.DoesNotContain("Unhandled error", log, StringComparison.Ordinal);
        Assert.DoesNotContain(RealService.ApiKey, log, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongKey, log, StringComparison.Ordinal);
    }

    /// <summary>
    /// The contract's answer to a fuzzed create body, worked out independently of the service: a
    /// strict JSON parser, then the request rules of sections 3, 4, 5 and 10 checked field by field
    /// in declaration order. A valid team body may still meet a taken alias (400 <c>Item already exists</c>).
    /// </summary>
    private static class FuzzOracle
    {
        private static readonly Regex TeamName = new(@"^\S+( \S+)*$");
        private static readonly Regex Uuid = new("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
        private static readonly Regex OdsCode = new("^[A-Za-z0-9]{1,32}$");

        public static Expect Expected(bool team, byte[] body)
        {
            if (!System.Text.Unicode.Utf8.IsValid(body))
            {
                return Invalid;
            }

            Dictionary<string, JsonElement> fields;
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return Invalid;
                }

                // The last of duplicate keys wins, as in Python.
                fields = json.RootElement.EnumerateObject().GroupBy(field => field.Name).ToDictionary(group => group.Key, group => group.Last().Value.Clone());
            }
            catch (JsonException)
            {
                return Invalid;
            }

            string[] declared = team ? ["ods_code", "name", "keys"] : ["name"];
            var errors = new List<string>();
            foreach (var field in declared)
            {
                if (!fields.TryGetValue(field, out var value))
                {
                    if (field != "keys")
                    {
                        errors.Add("MISSING_VALUE");
                    }

                    continue;
                }

                errors.AddRange(field switch
                {
                    "keys" => KeyErrors(value),
                    "name" when !team => Text(value) is { } name && name.Trim().Length > 0 && name.Length <= 255 && name.All(c => c is >= ' ' and <= '~') ? [] : ["VALIDATION_ERROR"],
                    "name" => Text(value) is { } name && TeamName.IsMatch(name) && name.Length <= 255 && !name.Any(IsControlOrFormat) ? [] : ["VALIDATION_ERROR"],
                    _ => Text(value) is null ? ["VALIDATION_ERROR"] : [],
                });
            }

            if (fields.Keys.Except(declared).Any()
                || (team && fields.TryGetValue("keys", out var keys) && KeyErrors(keys).Count == 0 && keys.GetArrayLength() > 1))
            {
                errors.Add("VALIDATION_ERROR");
            }

            if (errors.Count > 0)
            {
                return Expect.Ours(400, errors[0]);
            }

            if (!team)
            {
                return Created;
            }

            var odsCode = Text(fields["ods_code"])!;
            return !OdsCode.IsMatch(odsCode) || odsCode.StartsWith("BAD", StringComparison.Ordinal) ? Unprocessable : new Expect([201, 400], "VALIDATION_ERROR", ByKestrel: false);
        }

        /// <summary>A string field's value as the service reads it; integers and booleans become strings, null means refused.</summary>
        private static string? Text(JsonElement value)
        {
            try
            {
                return value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Number when value.TryGetInt64(out var number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    JsonValueKind.True => "True",
                    JsonValueKind.False => "False",
                    _ => null,
                };
            }
            catch (InvalidOperationException)
            {
                // A lone surrogate escape: not a string the service can read.
                return null;
            }
        }

        private static List<string> KeyErrors(JsonElement keys)
        {
            if (keys.ValueKind != JsonValueKind.Array)
            {
                return ["VALIDATION_ERROR"];
            }

            var errors = new List<string>();
            foreach (var key in keys.EnumerateArray())
            {
                if (key.ValueKind != JsonValueKind.Object)
                {
                    errors.Add("VALIDATION_ERROR");
                    continue;
                }

                var type = LastField(key, "key_type");
                var value = LastField(key, "key_value");
                errors.Add(type is null ? "MISSING_VALUE" : Text(type.Value) == "product_team_id" ? "" : "VALIDATION_ERROR");
                errors.Add(value is null ? "MISSING_VALUE" : Text(value.Value) is { } text && Uuid.IsMatch(text) ? "" : "VALIDATION_ERROR");
            }

            return [.. errors.Where(error => error.Length > 0)];
        }

        private static JsonElement? LastField(JsonElement item, string name)
        {
            JsonElement? found = null;
            foreach (var field in item.EnumerateObject().Where(field => field.Name == name))
            {
                found = field.Value;
            }

            return found;
        }

        private static bool IsControlOrFormat(char c) =>
            char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format;
    }

    /// <summary>
    /// The answer a request must get: from our code (which stamps <c>Version</c> on every answer) with
    /// one of <paramref name="Statuses"/> and, for an error, <paramref name="Code"/> first; or Kestrel's
    /// own refusal of broken HTTP, before any of our code runs.
    /// </summary>
    private sealed record Expect(int[] Statuses, string? Code, bool ByKestrel)
    {
        public static Expect Ours(int status, string? code = null) => new([status], code, ByKestrel: false);

        public static Expect Kestrel(int status) => new([status], null, ByKestrel: true);

        public override string ToString() =>
            $"{string.Join(" or ", Statuses)}{(Code is null ? "" : " " + Code)}{(ByKestrel ? " from Kestrel" : "")}";
    }

    /// <summary>What a batch of requests got, and everything wrong with it.</summary>
    private sealed class Outcomes
    {
        private readonly SortedDictionary<int, int> _ours = [];
        private readonly List<string> _kestrel = [];
        private TimeSpan _slowest;
        private string _slowestName = "";

        public List<string> Problems { get; } = [];

        public void Problem(string name, string what) => Problems.Add($"{Shorten(name)}: {what}");

        public void Record(string name, RawResponse reply, TimeSpan elapsed, Expect expected)
        {
            if (elapsed > _slowest)
            {
                (_slowest, _slowestName) = (elapsed, Shorten(name));
            }

            var ours = reply.Header("Version") is not null;
            var code = ours && reply.Status >= 400 ? FirstCode(reply) : null;
            if (!expected.Statuses.Contains(reply.Status) || ours == expected.ByKestrel || (expected.Code is not null && code is not null && code != expected.Code))
            {
                Problem(name, $"expected {expected} but got {reply.Status} {code}{(ours ? "" : " from Kestrel")}: {Shorten(reply.Text)}");
            }

            if (!ours)
            {
                _kestrel.Add($"{reply.Status} {Shorten(name)}");
                return;
            }

            _ours[reply.Status] = _ours.GetValueOrDefault(reply.Status) + 1;
            if (reply.Status >= 500)
            {
                Problem(name, $"{reply.Status} {Shorten(reply.Text)}");
            }

            if (reply.Status >= 400 && ErrorBodyProblem(reply, isHead: name.StartsWith("HEAD ", StringComparison.Ordinal)) is { } problem)
            {
                Problem(name, $"{reply.Status}: {problem}: {Shorten(reply.Text)}");
            }
        }

        public string Summary() =>
            $"{_ours.Values.Sum() + _kestrel.Count} requests, slowest {_slowest.TotalMilliseconds:0} ms ({_slowestName}); ours: "
            + string.Join(", ", _ours.Select(pair => $"{pair.Value} × {pair.Key}"))
            + $"; Kestrel's own ({_kestrel.Count}): " + string.Join("; ", _kestrel);

        private static string? ErrorBodyProblem(RawResponse reply, bool isHead)
        {
            if (reply.Header("Content-Type") != ApiResults.JsonContentType)
            {
                return $"Content-Type '{reply.Header("Content-Type")}'";
            }

            if (isHead)
            {
                return null;
            }

            try
            {
                using var json = JsonDocument.Parse(reply.Body);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.EnumerateObject().Select(p => p.Name).SequenceEqual(["errors"]))
                {
                    return "not {\"errors\": ...}";
                }

                var errors = root.GetProperty("errors");
                if (errors.ValueKind != JsonValueKind.Array || errors.GetArrayLength() == 0)
                {
                    return "errors is not a non-empty list";
                }

                foreach (var error in errors.EnumerateArray())
                {
                    if (error.ValueKind != JsonValueKind.Object || !error.EnumerateObject().Select(p => p.Name).SequenceEqual(["code", "message"])
                        || error.GetProperty("code").ValueKind != JsonValueKind.String || error.GetProperty("message").ValueKind != JsonValueKind.String)
                    {
                        return "an error is not {\"code\": ..., \"message\": ...}";
                    }
                }

                var code = errors[0].GetProperty("code").GetString()!;
                return ErrorCodes.Status(code) == reply.Status ? null : $"code {code} does not go with status {reply.Status}";
            }
            catch (JsonException failure)
            {
                return $"not JSON ({failure.Message})";
            }
        }

        private static string? FirstCode(RawResponse reply)
        {
            try
            {
                using var json = JsonDocument.Parse(reply.Body);
                return json.RootElement.GetProperty("errors")[0].GetProperty("code").GetString();
            }
            catch (Exception failure) when (failure is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
            {
                // ErrorBodyProblem reports the shape.
                return null;
            }
        }

        private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "…";
    }
}
