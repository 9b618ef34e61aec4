using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>An HTTP client that sends the contract's headers and hands back raw replies.</summary>
public sealed class CpmClient(HttpClient http, string? apiKey, string? version)
{
    public HttpClient Http => http;

    public Task<Reply> GetAsync(string path, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Get, path, null, headers);

    public Task<Reply> DeleteAsync(string path, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Delete, path, null, headers);

    public Task<Reply> PostAsync(string path, string? body, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Post, path, body, headers);

    public async Task<Reply> SendAsync(HttpMethod method, string path, string? body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("apikey", apiKey);
        }

        if (version is not null)
        {
            request.Headers.TryAddWithoutValidation("version", version);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return new Reply(response.StatusCode, Encoding.UTF8.GetString(bytes), bytes.Length, response);
    }

    /// <summary>Each path's status and body, in order: what a store must answer alike before and after a change to it.</summary>
    public async Task<string[]> ReadAllAsync(IEnumerable<string> paths)
    {
        var bodies = new List<string>();
        foreach (var path in paths)
        {
            var reply = await GetAsync(path);
            bodies.Add($"{(int)reply.Status} {reply.Body}");
        }

        return [.. bodies];
    }

    /// <summary>Creates a team with a fresh alias and a fresh known ODS code unless given.</summary>
    public async Task<JsonObject> CreateTeamAsync(string? odsCode = null, string name = "Test Team", string? alias = null)
    {
        odsCode ??= Unique.OdsCode();
        alias ??= Guid.NewGuid().ToString();
        var reply = await PostAsync("/ProductTeam",
            $$"""{"ods_code": "{{odsCode}}", "name": "{{name}}", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""");
        reply.AssertStatus(HttpStatusCode.Created);
        return reply.Json();
    }

    public async Task<JsonObject> CreateProductAsync(string teamKey, string name = "Test Product")
    {
        var reply = await PostAsync($"/ProductTeam/{teamKey}/Product", $$"""{"name": "{{name}}"}""");
        reply.AssertStatus(HttpStatusCode.Created);
        return reply.Json();
    }

    /// <summary>
    /// Creates a team and a product in it, then deletes both (the product first: a team with live
    /// products cannot be deleted), naming the team by its alias or by its id throughout.
    /// </summary>
    public async Task<(JsonObject Team, string ProductId)> CreateTeamThatHadAProductAsync(bool byAlias = false)
    {
        var team = await CreateTeamAsync();
        var key = byAlias ? (string)team["keys"]![0]!["key_value"]! : (string)team["id"]!;
        var product = (string)(await CreateProductAsync(key))["id"]!;
        (await DeleteAsync($"/ProductTeam/{key}/Product/{product}")).AssertStatus(HttpStatusCode.OK);
        (await DeleteAsync($"/ProductTeam/{key}")).AssertStatus(HttpStatusCode.OK);
        return (team, product);
    }
}

public sealed record Reply(HttpStatusCode Status, string Body, int ByteCount, HttpResponseMessage Response)
{
    public JsonObject Json() => JsonNode.Parse(Body)!.AsObject();

    public string? Header(string name) =>
        Response.Headers.TryGetValues(name, out var values) || Response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : null;

    public void AssertStatus(HttpStatusCode expected) =>
        Assert.True(Status == expected, $"Expected {(int)expected} but got {(int)Status}: {Body}");

    /// <summary>Asserts the whole error body, byte for byte.</summary>
    public void AssertError(HttpStatusCode status, string code, string message) => AssertErrors(status, (code, message));

    public void AssertErrors(HttpStatusCode status, params (string Code, string Message)[] errors)
    {
        AssertStatus(status);
        var expected = "{\"errors\": [" + string.Join(", ", errors.Select(e => $"{{\"code\": \"{e.Code}\", \"message\": {PythonJson(e.Message)}}}")) + "]}";
        Assert.Equal(expected, Body);
        Assert.Equal("application/json", Header("Content-Type"));
    }

    /// <summary>A string as Python's json.dumps writes it (ASCII-only, lowercase hex escapes).</summary>
    public static string PythonJson(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\b' => "\\b",
                '\f' => "\\f",
                < ' ' or > '~' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return text.Append('"').ToString();
    }
}

public static class Unique
{
    private static int _counter;

    /// <summary>A fresh ODS code the fake ORD knows, so tests never share an organisation.</summary>
    public static string OdsCode() => $"T{Interlocked.Increment(ref _counter)}{Guid.NewGuid().ToString("N")[..6].ToUpperInvariant()}";
}

