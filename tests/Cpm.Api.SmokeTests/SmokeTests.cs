using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cpm.Api.SmokeTests;

/// <summary>
/// The main paths through a running deployment, each test on data of its own that it deletes
/// afterwards, passed or failed. Names start with "CPM smoke test" so leftovers are recognisable.
/// </summary>
[Collection(SharedDeployment.Name)]
public sealed class SmokeTests(Deployment deployment) : IAsyncLifetime
{
    private readonly List<string> _teams = [];
    private readonly List<(string Team, string Product)> _products = [];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Deletes what the test created, products before their teams; already deleted is fine.</summary>
    public async Task DisposeAsync()
    {
        var failures = new List<string>();
        foreach (var (team, product) in _products)
        {
            await DeleteAsync($"ProductTeam/{team}/Product/{product}", failures);
        }

        foreach (var team in _teams)
        {
            await DeleteAsync($"ProductTeam/{team}", failures);
        }

        Assert.True(failures.Count == 0, $"Clean-up failed: {string.Join("; ", failures)}");
    }

    [Fact]
    public async Task ProbesAndStatusAnswer()
    {
        var ping = await SendAsync(HttpMethod.Get, "_ping", apiKey: false, version: false);
        var status = await SendAsync(HttpMethod.Get, "_status", version: false);

        ping.AssertStatus(HttpStatusCode.OK);
        status.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("OK", (string?)status.Json["code"]);
    }

    [Fact]
    public async Task TeamIsCreatedThenReadByIdAndByAliasAndListedUnderItsOrganisation()
    {
        var (id, alias) = await CreateTeamAsync();

        var byId = await SendAsync(HttpMethod.Get, $"ProductTeam/{id}");
        var byAlias = await SendAsync(HttpMethod.Get, $"ProductTeam/{alias}");
        var list = await SendAsync(HttpMethod.Get, $"ProductTeam?organisation_code={deployment.OdsCode}");

        byId.AssertStatus(HttpStatusCode.OK);
        byAlias.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(id, (string?)byAlias.Json["id"]);
        Assert.Equal(deployment.OdsCode, (string?)byId.Json["ods_code"]);
        list.AssertStatus(HttpStatusCode.OK);
        Assert.Contains(id, list.Json["results"]!.AsArray().Select(team => (string?)team!["id"]));
    }

    [Fact]
    public async Task ProductIsCreatedThenReadAndFoundBySearch()
    {
        var (team, alias) = await CreateTeamAsync();
        var product = await CreateProductAsync(team);

        var read = await SendAsync(HttpMethod.Get, $"Product/{product}");
        var search = await SendAsync(HttpMethod.Get, $"Product?product_team_id={alias}");

        read.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(team, (string?)read.Json["cpm_product_team_id"]);
        search.AssertStatus(HttpStatusCode.OK);
        var found = search.Json["results"]!.AsArray()
            .SelectMany(organisation => organisation!["product_teams"]!.AsArray())
            .SelectMany(productTeam => productTeam!["products"]!.AsArray())
            .Select(item => (string?)item!["id"]);
        Assert.Contains(product, found);
    }

    [Fact]
    public async Task RenameNeedsTheCurrentETagAndHistoryRecordsIt()
    {
        var (team, _) = await CreateTeamAsync();
        var etag = (await SendAsync(HttpMethod.Get, $"ProductTeam/{team}")).ETag;

        var renamed = await SendAsync(HttpMethod.Patch, $"ProductTeam/{team}", """{"name": "CPM smoke test renamed"}""", etag);
        var stale = await SendAsync(HttpMethod.Patch, $"ProductTeam/{team}", """{"name": "CPM smoke test stale"}""", etag);
        var history = await SendAsync(HttpMethod.Get, $"ProductTeam/{team}/History");

        renamed.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("CPM smoke test renamed", (string?)renamed.Json["name"]);
        Assert.NotEqual(etag, renamed.ETag);
        stale.AssertStatus(HttpStatusCode.PreconditionFailed);
        history.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["ProductTeamCreated", "ProductTeamUpdated"], history.Json["events"]!.AsArray().Select(e => (string?)e!["type"]));
    }

    [Fact]
    public async Task ProductRenameWithItsETagShowsInItsHistory()
    {
        var (team, _) = await CreateTeamAsync();
        var product = await CreateProductAsync(team);
        var etag = (await SendAsync(HttpMethod.Get, $"Product/{product}")).ETag;

        var renamed = await SendAsync(HttpMethod.Patch, $"ProductTeam/{team}/Product/{product}", """{"name": "CPM smoke test product renamed"}""", etag);
        var history = await SendAsync(HttpMethod.Get, $"Product/{product}/History");

        renamed.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(product, (string?)renamed.Json["id"]);
        history.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(["ProductCreated", "ProductUpdated"], history.Json["events"]!.AsArray().Select(e => (string?)e!["type"]));
    }

    [Fact]
    public async Task DeletedProductAndTeamAreGone()
    {
        var (team, _) = await CreateTeamAsync();
        var product = await CreateProductAsync(team);

        var productDeleted = await SendAsync(HttpMethod.Delete, $"ProductTeam/{team}/Product/{product}");
        var teamDeleted = await SendAsync(HttpMethod.Delete, $"ProductTeam/{team}");

        productDeleted.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("RESOURCE_DELETED", (string?)productDeleted.Json["code"]);
        teamDeleted.AssertStatus(HttpStatusCode.OK);
        (await SendAsync(HttpMethod.Get, $"Product/{product}")).AssertStatus(HttpStatusCode.NotFound);
        (await SendAsync(HttpMethod.Get, $"ProductTeam/{team}")).AssertStatus(HttpStatusCode.NotFound);
    }

    private async Task<(string Id, string Alias)> CreateTeamAsync()
    {
        var alias = Guid.NewGuid().ToString();
        var created = await SendAsync(HttpMethod.Post, "ProductTeam",
            $$"""{"ods_code": "{{deployment.OdsCode}}", "name": "CPM smoke test team", "keys": [{"key_type": "product_team_id", "key_value": "{{alias}}"}]}""");
        created.AssertStatus(HttpStatusCode.Created);
        var id = (string)created.Json["id"]!;
        _teams.Add(id);
        return (id, alias);
    }

    private async Task<string> CreateProductAsync(string team)
    {
        var created = await SendAsync(HttpMethod.Post, $"ProductTeam/{team}/Product", """{"name": "CPM smoke test product"}""");
        created.AssertStatus(HttpStatusCode.Created);
        var id = (string)created.Json["id"]!;
        _products.Add((team, id));
        return id;
    }

    private async Task DeleteAsync(string path, List<string> failures)
    {
        try
        {
            var reply = await SendAsync(HttpMethod.Delete, path);
            if (reply.Status is not (HttpStatusCode.OK or HttpStatusCode.NotFound))
            {
                failures.Add($"DELETE /{path}: {(int)reply.Status} {reply.Body}");
            }
        }
        catch (HttpRequestException failure)
        {
            failures.Add($"DELETE /{path}: {failure.Message}");
        }
    }

    private async Task<Reply> SendAsync(HttpMethod method, string path, string? body = null, string? ifMatch = null,
        bool apiKey = true, bool version = true)
    {
        using var request = new HttpRequestMessage(method, path);
        if (apiKey)
        {
            request.Headers.Add("apikey", deployment.ApiKey);
        }

        if (version)
        {
            request.Headers.Add("version", "1");
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await deployment.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, text, response.Headers.ETag?.ToString());
    }

    private sealed record Reply(HttpStatusCode Status, string Body, string? ETag)
    {
        public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

        public void AssertStatus(HttpStatusCode expected) =>
            Assert.True(Status == expected, $"Expected {(int)expected} but got {(int)Status}: {Body}");
    }
}
