using System.Net;
using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// Bounded memory (docs/API.md, paging): search, listing and history without limit are sent in
/// pieces once they outgrow one, crossing the store's page boundaries; small answers go out whole.
/// The data is loaded through the store's import, so the class needs its own store.
/// </summary>
public abstract class LargeAnswerTests(CpmService service)
{
    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task AnswersWithoutLimitThatGrowWithTheDataAreSentInPiecesAndSmallOnesWhole()
    {
        var ods = Unique.OdsCode();
        var now = DateTimeOffset.UtcNow;
        var teams = Enumerable.Range(0, 508)
            .Select(_ => new ProductTeam(Guid.NewGuid().ToString(), "Many Teams", ods, EntityStatus.Active, now, null, null, [], 1))
            .ToList();
        var ids = new RandomProductIdCandidates();
        var products = teams.Take(3)
            .SelectMany(team => Enumerable.Range(0, 400).Select(_ => new Product(ids.Draw(), team.Id, null, "Piece", ods, EntityStatus.Active, now, null, null, 1)))
            .DistinctBy(product => product.Id)
            .ToList();
        var history = Enumerable.Range(1, 505)
            .Select(version => new ChangeEvent(Guid.NewGuid().ToString(), ChangeEvent.TeamEntity, teams[0].Id, version == 1 ? "ProductTeamCreated" : "ProductTeamUpdated",
                now, version, null, null, "apikey-0", [new FieldChange("name", null, $"Name {version}")]))
            .ToList();
        await service.Services.GetRequiredService<ICpmStore>().ImportAsync(teams, products, history, CancellationToken.None);

        var search = await _client.GetAsync($"/Product?organisation_code={ods}");
        var listing = await _client.GetAsync($"/ProductTeam?organisation_code={ods}");
        var events = await _client.GetAsync($"/ProductTeam/{teams[0].Id}/History");
        var small = await _client.GetAsync($"/Product?product_team_id={teams[^1].Id}");

        foreach (var large in new[] { search, listing, events })
        {
            large.AssertStatus(HttpStatusCode.OK);
            Assert.Null(large.Header("Content-Length"));
            Assert.Equal("chunked", large.Header("Transfer-Encoding"));
        }

        var grouped = search.Json()["results"]!.AsArray().Single()!["product_teams"]!.AsArray();
        Assert.Equal(teams.Take(3).Select(t => t.Id).Order(StringComparer.Ordinal), grouped.Select(t => (string)t!["cpm_product_team_id"]!));
        Assert.Equal(
            products.OrderBy(p => p.TeamId, StringComparer.Ordinal).ThenBy(p => p.Id, StringComparer.Ordinal).Select(p => p.Id),
            grouped.SelectMany(t => t!["products"]!.AsArray()).Select(p => (string)p!["id"]!));
        Assert.Equal(teams.Select(t => t.Id).Order(StringComparer.Ordinal), listing.Json()["results"]!.AsArray().Select(t => (string)t!["id"]!));
        Assert.Equal(Enumerable.Range(1, 505), events.Json()["events"]!.AsArray().Select(e => (int)e!["version"]!));
        Assert.Equal("""{"results": []}""", small.Body);
        Assert.Equal(small.ByteCount.ToString(System.Globalization.CultureInfo.InvariantCulture), small.Header("Content-Length"));
    }
}

public sealed class SqliteLargeAnswerTests(SqliteService service) : LargeAnswerTests(service), IClassFixture<SqliteService>;
