using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Cpm.Api.Http;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Reliability;

/// <summary>
/// Malformed requests over a real socket to the real service process: never a 5xx, never a
/// hang, always the contract's error body for errors our code writes; Kestrel's own refusals
/// of broken HTTP (no body, no <c>Version</c> header) are allowed and listed. The service stays healthy.
/// </summary>
public sealed class AbuseTests(RealService service, ITestOutputHelper output) : IClassFixture<RealService>
{
    private const string WrongKey = "wrong-key-3e8a77c1";
    private const int FuzzCases = 200;

    private static readonly string[] Headers = [$"apikey: {RealService.ApiKey}", "version: 1", "Content-Type: application/json"];

    private readonly int _port = new Uri(service.Process.BaseUrl).Port;
    private readonly Outcomes _outcomes = new();

    [Fact]
    public async Task MalformedBodiesNeverGet5xxAndAlwaysGetTheErrorBody()
    {
        var (team, _) = await SeedAsync();
        foreach (var target in new[] { "/ProductTeam", $"/ProductTeam/{team}/Product" })
        {
            foreach (var (name, body) in MalformedBodies())
            {
                await SendAsync($"POST {target} {name}", RawHttp.Request("POST", target, Headers, body));
            }
        }

        foreach (var target in new[] { $"/ProductTeam/{team}", "/Product?organisation_code=X", "/_status" })
        {
            foreach (var (name, body) in MalformedBodies().Take(12))
            {
                await SendAsync($"GET {target} with body {name}", RawHttp.Request("GET", target, Headers, body), HttpStatusCode.OK, HttpStatusCode.NotFound);
            }
        }

        await FinishAsync();
    }

    [Fact]
    public async Task FuzzedBodiesNeverGet5xxAndAlwaysGetTheErrorBody()
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
            await SendAsync($"POST {target} fuzz #{i} {Convert.ToBase64String(body)}", RawHttp.Request("POST", target, Headers, body));
        }

        await FinishAsync();
    }

    [Fact]
    public async Task OddPathsMethodsAndQueriesAlwaysGetTheErrorBody()
    {
        var (team, product) = await SeedAsync();
        string[] paths =
        [
            "/ProductTeam/%2e%2e", "/ProductTeam/%2E%2E/%2E%2E/_status", "/ProductTeam/..%2f..%2f_status", "/ProductTeam/../../etc/passwd",
            "/Product/%2F", "/Product/a%2Fb", "/Product/%ff%fe", "/Product/%ED%A0%80", "/Product/%C0%AF", "/Product/%zz",
            "/ProductTeam/caf%C3%A9", "/ProductTeam/\u00e9t\u00e9", "/ProductTeam/%F0%9F%98%80", "/ProductTeam/%E2%80%AE",
            "//", "//ProductTeam", "///ProductTeam//Product", "/ProductTeam//Product", $"/ProductTeam/{team}//Product",
            "/ProductTeam/" + new string('a', 6000), "/Product/" + string.Concat(Enumerable.Repeat("%41", 2000)),
            "/_status/", "/_STATUS", "/producTteam/x", "/ProductTeam/x;y", "/ProductTeam/x%0d%0aSet-Cookie:%20a=b",
            "/ProductTeam/%20", "/ProductTeam/.", "/Product/.", "/nothing/here", "/favicon.ico", "*",
            $"http://127.0.0.1/ProductTeam/{team}",
        ];
        foreach (var path in paths)
        {
            var reply = await SendAsync($"GET {path}", RawHttp.Request("GET", path, Headers));
            Assert.Null(reply.Header("Set-Cookie"));
        }

        string[] routes = ["/ProductTeam", $"/ProductTeam/{team}", $"/ProductTeam/{team}/Product", $"/ProductTeam/{team}/Product/{product}", "/Product", $"/Product/{product}", "/_status"];
        foreach (var route in routes)
        {
            foreach (var method in new[] { "PUT", "PATCH", "TRACE", "HEAD", "FOO", "POST", "CONNECT" })
            {
                var destructive = method is "POST" or "PATCH" or "PUT";
                var body = destructive ? "{\"name\": 42, \"ods_code\": [], \"extra\": {}}"u8.ToArray() : null;
                await SendAsync($"{method} {route}", RawHttp.Request(method, route, Headers, body));
            }
        }

        string[] queries =
        [
            "/Product?product_team_id=a&product_team_id=b", "/Product?organisation_code=x&organisation_code=", "/Product?product_team_id=a&organisation_code=b",
            "/ProductTeam?organisation_code=a&organisation_code=b", "/Product?" + string.Join('&', Enumerable.Repeat("organisation_code=X", 300)),
            "/Product?organisation_code[]=x", "/Product?=x", "/Product?&&&", "/Product?organisation_code=%ff", "/Product?organisation_code=%zz",
            "/Product?%=x", "/Product?organisation_code=%00", "/ProductTeam?organisation_code", "/Product?a=1&b=2&c=3", $"/ProductTeam/{team}?x=1&x=2",
            "/Events?after=-1", "/Events?after=99999999999999999999999", "/Events?limit=0", "/Events?limit=1e3", "/Events?limit=99999999999999999999",
            "/Events?after=abc&after=1", "/Events?after=%ff", "/ProductTeam?organisation_code=X&limit=0", "/ProductTeam?organisation_code=X&limit=-1",
            "/ProductTeam?organisation_code=X&limit=1001", "/ProductTeam?organisation_code=X&limit=1&cursor=forged", "/ProductTeam?organisation_code=X&limit=1&cursor=%ff",
            "/Product?organisation_code=X&cursor=x", "/Product?organisation_code=X&limit=1&cursor=" + new string('c', 4000),
            $"/ProductTeam/{team}?include_deleted=maybe", $"/Product/{product}?include_deleted=TRUE", $"/Product/{product}?include_deleted=true&include_deleted=false",
            $"/ProductTeam/{team}/History?limit=1", $"/Product/{product}/History?x=1", "/Export",
        ];
        foreach (var query in queries)
        {
            await SendAsync($"GET {query}", RawHttp.Request("GET", query, Headers));
        }

        (await service.Client().GetAsync($"/Product/{product}")).AssertStatus(HttpStatusCode.OK);
        await FinishAsync();
    }

    [Fact]
    public async Task BrokenHttpAndOversizedHeadersAreRefusedWithoutA5xx()
    {
        var (team, _) = await SeedAsync();
        var cases = new (string Name, byte[] Request)[]
        {
            ("header of 40 KB", RawHttp.Request("GET", "/_status", [.. Headers, "X-Big: " + new string('x', 40_000)])),
            ("150 headers", RawHttp.Request("GET", "/_status", [.. Headers, .. Enumerable.Range(0, 150).Select(i => $"X-H{i}: {i}")])),
            ("request line of 20 KB", RawHttp.Request("GET", "/ProductTeam/" + new string('b', 20_000), Headers)),
            ("apikey of 30 KB", RawHttp.Request("GET", "/_status", ["apikey: " + new string('k', 30_000), "version: 1"])),
            ("apikey twice", RawHttp.Request("GET", "/_status", [$"apikey: {RealService.ApiKey}", $"apikey: {WrongKey}"])),
            ("version of 10,000 digits", RawHttp.Request("GET", $"/ProductTeam/{team}", [$"apikey: {RealService.ApiKey}", "version: " + new string('9', 10_000)])),
            ("non-ASCII version", RawHttp.Request("GET", $"/ProductTeam/{team}", [$"apikey: {RealService.ApiKey}", "version: \u00d9\u00a1"])),
            ("non-ASCII apikey", RawHttp.Request("GET", "/_status", ["apikey: caf\u00c3\u00a9"])),
            ("X-Request-Id of 16 KB", RawHttp.Request("GET", "/_status", [.. Headers, "X-Request-Id: " + new string('r', 16_000)])),
            ("no Host", Encoding.ASCII.GetBytes($"GET /_status HTTP/1.1\r\napikey: {RealService.ApiKey}\r\n\r\n")),
            ("HTTP/1.0 without Host", Encoding.ASCII.GetBytes($"GET /_status HTTP/1.0\r\napikey: {RealService.ApiKey}\r\n\r\n")),
            ("garbage request line", "HELLO THERE\r\n\r\n"u8.ToArray()),
            ("unknown HTTP version", Encoding.ASCII.GetBytes($"GET /_status HTTP/9.9\r\nHost: x\r\napikey: {RealService.ApiKey}\r\n\r\n")),
            ("NUL in path", RawHttp.Request("GET", "/ProductTeam/%00", Headers)),
            ("raw space in path", RawHttp.Request("GET", "/Product Team", Headers)),
            ("obsolete folded header", RawHttp.Request("GET", "/_status", [.. Headers, "X-Fold: a", " b"])),
            ("header without colon", RawHttp.Request("GET", "/_status", [.. Headers, "NoColonHere"])),
            ("Content-Length not a number", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Content-Length: abc"], "{}"u8.ToArray())),
            ("negative Content-Length", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Content-Length: -1"], "{}"u8.ToArray())),
            ("two Content-Lengths", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Content-Length: 2", "Content-Length: 3"], "{}"u8.ToArray())),
            ("Content-Length and chunked", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Content-Length: 2", "Transfer-Encoding: chunked"], "2\r\n{}\r\n0\r\n\r\n"u8.ToArray())),
            ("bad chunk size", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Transfer-Encoding: chunked"], "zz\r\n{}\r\n0\r\n\r\n"u8.ToArray())),
            ("chunk longer than said", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "Transfer-Encoding: chunked"], "1\r\n{\"name\": \"x\"}\r\n0\r\n\r\n"u8.ToArray())),
            ("unknown transfer coding", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Transfer-Encoding: gzip"], "{}"u8.ToArray())),
            ("Expect 100-continue", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "Expect: 100-continue"], "{\"name\": \"Expecting\"}"u8.ToArray())),
            ("If-Match of 23 digits", RawHttp.Request("PATCH", $"/ProductTeam/{team}", [.. Headers, "If-Match: W/\"99999999999999999999999\""], "{\"name\": \"Renamed\"}"u8.ToArray())),
            ("If-Match of a lone quote", RawHttp.Request("PATCH", $"/ProductTeam/{team}", [.. Headers, "If-Match: \""], "{\"name\": \"Renamed\"}"u8.ToArray())),
            ("If-Match list", RawHttp.Request("PATCH", $"/ProductTeam/{team}", [.. Headers, "If-Match: \"0\", W/\"-1\", *"], "{\"name\": \"Renamed\"}"u8.ToArray())),
            ("X-Request-Id reused for another body", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "X-Request-Id: reused-1"], "{\"name\": \"Other\"}"u8.ToArray())),
            ("Content-Encoding gzip on plain JSON", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "Content-Encoding: gzip"], "{\"name\": \"Zipped\"}"u8.ToArray())),
        };
        await SendAsync("X-Request-Id first use", RawHttp.Request("POST", $"/ProductTeam/{team}/Product", [.. Headers, "X-Request-Id: reused-1"], "{\"name\": \"First\"}"u8.ToArray()));
        foreach (var (name, request) in cases)
        {
            await SendAsync(name, request);
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
        var over = await SendAsync("1 MiB + 1 byte", RawHttp.Request("POST", productPath, Headers, justOver), HttpStatusCode.RequestEntityTooLarge);
        AssertContractError(over, "PAYLOAD_TOO_LARGE", tooLarge);

        var chunked = Chunked(Padded("{\"name\": \"Big\"}", 2 * RequestBody.MaxBytes));
        var overChunked = await SendAsync("2 MiB chunked", RawHttp.Request("POST", "/ProductTeam", [.. Headers, "Transfer-Encoding: chunked"], chunked), HttpStatusCode.RequestEntityTooLarge);
        AssertContractError(overChunked, "PAYLOAD_TOO_LARGE", tooLarge);

        // 50 MB announced, 20 bytes sent: the answer comes at once, so the body is never waited for.
        var stopwatch = Stopwatch.StartNew();
        var announced = await SendAsync("50 MB announced", RawHttp.Request("POST", productPath, [.. Headers, "Content-Length: 50000000"], "{\"name\": \"Liar\"}    "u8.ToArray()), HttpStatusCode.RequestEntityTooLarge);
        AssertContractError(announced, "PAYLOAD_TOO_LARGE", tooLarge);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3));

        var atLimit = Padded("{\"name\": \"Exactly One Mebibyte\"}", RequestBody.MaxBytes);
        await SendAsync("exactly 1 MiB", RawHttp.Request("POST", productPath, Headers, atLimit), HttpStatusCode.Created);

        await FinishAsync();
    }

    private static IEnumerable<(string Name, byte[] Body)> MalformedBodies()
    {
        static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
        static byte[] Bytes(string prefix, byte[] middle, string suffix) => [.. B(prefix), .. middle, .. B(suffix)];

        yield return ("array", B("[]"));
        yield return ("array of objects", B("[{\"name\": \"x\"}]"));
        yield return ("number", B("1"));
        yield return ("string", B("\"text\""));
        yield return ("null", B("null"));
        yield return ("true", B("true"));
        yield return ("negative zero", B("-0"));
        yield return ("whitespace only", B("  \n\t "));
        yield return ("invalid UTF-8 0xff", Bytes("{\"name\": \"a", [0xff, 0xfe], "\"}"));
        yield return ("overlong UTF-8", Bytes("{\"name\": \"", [0xc0, 0xaf], "\"}"));
        yield return ("UTF-8 encoded surrogate", Bytes("{\"name\": \"", [0xed, 0xa0, 0x80], "\"}"));
        yield return ("truncated UTF-8", Bytes("{\"name\": \"", [0xe2, 0x82], "\"}"));
        yield return ("byte order mark", Bytes("", [0xef, 0xbb, 0xbf], "{\"name\": \"x\"}"));
        yield return ("UTF-16 body", Encoding.Unicode.GetBytes("{\"name\": \"x\"}"));
        yield return ("100k [", B(new string('[', 100_000)));
        yield return ("100k [ then ]", B(new string('[', 100_000) + new string(']', 100_000)));
        yield return ("50k nested objects", B(string.Concat(Enumerable.Repeat("{\"a\": ", 50_000))));
        yield return ("deep value under name", B("{\"name\": " + new string('[', 100_000) + "}"));
        yield return ("NaN name", B("{\"name\": NaN}"));
        yield return ("Infinity name", B("{\"name\": Infinity, \"ods_code\": -Infinity}"));
        yield return ("NaN everywhere", B("{\"name\": NaN, \"ods_code\": NaN, \"keys\": NaN}"));
        yield return ("1e999", B("{\"name\": 1e999, \"ods_code\": -1e999}"));
        yield return ("5,000-digit integer", B("{\"name\": " + new string('7', 5_000) + "}"));
        yield return ("raw NUL in string", B("{\"name\": \"a\u0000b\"}"));
        yield return ("raw control characters", B("{\"name\": \"\u0001\u001f\"}"));
        yield return ("raw newline in string", B("{\"name\": \"a\nb\"}"));
        yield return ("escaped NUL", B("{\"name\": \"a\\u0000b\", \"ods_code\": \"\\u0000\"}"));
        yield return ("DEL character", B("{\"name\": \"\u007f\"}"));
        yield return ("lone high surrogate", B("{\"name\": \"\\ud800\"}"));
        yield return ("lone low surrogate", B("{\"name\": \"\\udc00x\", \"ods_code\": \"\\udfff\"}"));
        yield return ("reversed surrogate pair", B("{\"name\": \"\\udc00\\ud800\"}"));
        yield return ("bad escape", B("{\"name\": \"\\x41\"}"));
        yield return ("short unicode escape", B("{\"name\": \"\\u12\"}"));
        yield return ("non-hex unicode escape", B("{\"name\": \"\\uZZZZ\"}"));
        yield return ("unterminated string", B("{\"name\": \"abc"));
        yield return ("trailing garbage", B("{\"name\": \"x\"} x"));
        yield return ("two objects", B("{}{}"));
        yield return ("trailing comma", B("{\"name\": \"x\",}"));
        yield return ("single quotes", B("{'name': 'x'}"));
        yield return ("duplicate keys", B("{\"name\": \"a\", \"name\": \"b\", \"name\": null}"));
        yield return ("empty key", B("{\"\": 1}"));
        yield return ("key of 500 KB", B("{\"" + new string('k', 500_000) + "\": 1}"));
        yield return ("300k array items", B("[" + string.Join(',', Enumerable.Repeat('1', 300_000)) + "]"));
        yield return ("object name", B("{\"name\": {\"a\": 1}, \"ods_code\": {}}"));
        yield return ("keys of junk", B("{\"ods_code\": \"X\", \"name\": \"T\", \"keys\": [null, 1, \"x\", {}, [], {\"key_type\": null}]}"));
        yield return ("keys not a list", B("{\"ods_code\": \"X\", \"name\": \"T\", \"keys\": {\"key_type\": \"product_team_id\"}}"));
        yield return ("name of 500 KB", B("{\"name\": \"" + new string('n', 500_000) + "\", \"ods_code\": \"" + new string('o', 100_000) + "\"}"));
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

    private async Task<RawResponse> SendAsync(string name, byte[] request, params HttpStatusCode[] expected)
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

        _outcomes.Record(name, reply, stopwatch.Elapsed, expected.Select(status => (int)status).ToArray());
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

    /// <summary>What a batch of requests got, and everything wrong with it.</summary>
    private sealed class Outcomes
    {
        // Kestrel's own answers to broken HTTP: 405 for a non-OPTIONS "*" target, 505 for an unknown HTTP version.
        private static readonly int[] KestrelRefusals = [400, 405, 413, 414, 431, 505];

        private readonly SortedDictionary<int, int> _ours = [];
        private readonly List<string> _kestrel = [];
        private TimeSpan _slowest;
        private string _slowestName = "";

        public List<string> Problems { get; } = [];

        public void Problem(string name, string what) => Problems.Add($"{Shorten(name)}: {what}");

        public void Record(string name, RawResponse reply, TimeSpan elapsed, int[] expected)
        {
            if (elapsed > _slowest)
            {
                (_slowest, _slowestName) = (elapsed, Shorten(name));
            }

            if (expected.Length > 0 && !expected.Contains(reply.Status))
            {
                Problem(name, $"expected {string.Join(" or ", expected)} but got {reply.Status} {Shorten(reply.Text)}");
            }

            // Our middleware stamps Version on every answer it handles; Kestrel's own refusals have none.
            if (reply.Header("Version") is null)
            {
                _kestrel.Add($"{reply.Status} {Shorten(name)}");
                if (!KestrelRefusals.Contains(reply.Status))
                {
                    Problem(name, $"Kestrel answered {reply.Status}");
                }

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

        private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "…";
    }
}
