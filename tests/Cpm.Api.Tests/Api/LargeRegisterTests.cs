using System.Collections.Concurrent;
using System.Net;
using Cpm.Api.Entities;
using Cpm.Api.Products;
using Cpm.Api.ProductTeams;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Api;

/// <summary>
/// A 10,000-product organisation walked page by page while products are created and deleted:
/// every product that exists for the whole walk comes back exactly once. The register is loaded
/// through the store's import (the HTTP path is covered elsewhere), so the class needs its own store.
/// </summary>
public abstract class LargeRegisterTests(CpmService service)
{
    private const int Teams = 20;
    private const int ProductsPerTeam = 500;

    private readonly CpmClient _client = service.Client();

    [Fact]
    public async Task WalkingTenThousandProductsWithLimit100ReturnsEachStableProductExactlyOnceDespiteConcurrentWrites()
    {
        var ods = Unique.OdsCode();
        var now = DateTimeOffset.UtcNow;
        var teams = Enumerable.Range(0, Teams)
            .Select(_ => new ProductTeam(Guid.NewGuid().ToString(), "Big Team", ods, EntityStatus.Active, now, null, null, [], 1))
            .ToList();
        var ids = new RandomProductIdCandidates();
        var products = teams
            .SelectMany(team => Enumerable.Range(0, ProductsPerTeam).Select(_ => new Product(ids.Draw(), team.Id, null, "Bulk", ods, EntityStatus.Active, now, null, null, 1)))
            .DistinctBy(product => product.Id)
            .ToList();
        await service.Services.GetRequiredService<ICpmStore>().ImportAsync(teams, products, [], CancellationToken.None);

        var doomed = products.Where((_, i) => i % 50 == 0).Select(p => p.Id).ToHashSet();
        var stable = products.Select(p => p.Id).Where(id => !doomed.Contains(id)).ToHashSet();
        var churn = Task.Run(async () =>
        {
            foreach (var product in products.Where(p => doomed.Contains(p.Id)))
            {
                (await _client.DeleteAsync($"/ProductTeam/{product.TeamId}/Product/{product.Id}")).AssertStatus(HttpStatusCode.OK);
                await _client.CreateProductAsync(teams[product.Id[2] % Teams].Id);
            }
        });

        var seen = new ConcurrentBag<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = (await _client.GetAsync($"/Product?organisation_code={ods}&limit=100{(cursor is null ? "" : $"&cursor={cursor}")}")).Json();
            foreach (var product in page["results"]!.AsArray().SelectMany(o => o!["product_teams"]!.AsArray()).SelectMany(t => t!["products"]!.AsArray()))
            {
                seen.Add((string)product!["id"]!);
            }

            cursor = (string?)page["next_cursor"];
            pages++;
        }
        while (cursor is not null);

        await churn;
        var walked = seen.ToList();
        Assert.Equal(walked.Count, walked.Distinct().Count());
        Assert.Empty(stable.Except(walked));
        Assert.InRange(pages, 95, 110);
    }
}

public sealed class SqliteLargeRegisterTests(SqliteService service) : LargeRegisterTests(service), IClassFixture<SqliteService>;
