using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Cpm.Api.Products;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Reliability;

/// <summary>Product ids under load are well formed and unique; reserved and already used ids are never issued.</summary>
public sealed class ProductIdTests(SqliteService service, ITestOutputHelper output) : IClassFixture<SqliteService>, IAsyncLifetime
{
    private const int Products = 2_000;
    private const int Clients = 16;
    private const string IdPattern = "^P\\.[ACDEFGHJKLMNPRTUVWXY34679]{3}-[ACDEFGHJKLMNPRTUVWXY34679]{3}$";

    private FakeOrd _ord = null!;

    public async Task InitializeAsync() => _ord = await FakeOrd.StartAsync();

    public async Task DisposeAsync() => await _ord.DisposeAsync();

    [Fact]
    public async Task TwoThousandConcurrentProductsGetValidDistinctReadableIds()
    {
        var client = service.Client();
        var teams = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            teams.Add((string)(await client.CreateTeamAsync())["id"]!);
        }

        var created = new ConcurrentBag<(string Id, string Body)>();
        var next = -1;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < Products)
            {
                var reply = await client.PostAsync($"/ProductTeam/{teams[n % teams.Count]}/Product", $$"""{"name": "Product {{n}}"}""");
                reply.AssertStatus(HttpStatusCode.Created);
                created.Add(((string)reply.Json()["id"]!, reply.Body));
            }
        })));
        var createTime = stopwatch.Elapsed;

        Assert.Equal(Products, created.Count);
        Assert.All(created, product => Assert.Matches(IdPattern, product.Id));
        Assert.Equal(Products, created.Select(product => product.Id).Distinct(StringComparer.Ordinal).Count());
        foreach (var (id, body) in created)
        {
            var read = await client.GetAsync($"/Product/{id}");
            Assert.Equal(body, read.Body);
        }

        output.WriteLine($"{Products} products by {Clients} clients in {createTime.TotalSeconds:0.0} s "
            + $"({Products / createTime.TotalSeconds:0} creates/s), all valid, distinct and readable; {stopwatch.Elapsed.TotalSeconds:0.0} s with reads");
    }

    [Fact]
    public async Task ReservedIdsAreNeverIssuedEvenWhenDrawn()
    {
        var reservedFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(reservedFile, """["P.AAA-AAA", "P.CCC-CCC"]""");
        try
        {
            var candidates = new ScriptedCandidates("P.AAA-AAA", "P.CCC-CCC", "P.AAA-AAA", "P.DDD-DDD");
            await using var isolated = Start(candidates, reservedFile);
            var client = isolated.Client();
            var team = (string)(await client.CreateTeamAsync())["id"]!;

            var product = await client.CreateProductAsync(team);

            Assert.Equal("P.DDD-DDD", (string)product["id"]!);
            (await client.GetAsync("/Product/P.AAA-AAA")).AssertStatus(HttpStatusCode.NotFound);
            (await client.GetAsync("/Product/P.CCC-CCC")).AssertStatus(HttpStatusCode.NotFound);
        }
        finally
        {
            File.Delete(reservedFile);
        }
    }

    [Fact]
    public async Task IdsOfDeletedProductsAreNeverIssuedAgain()
    {
        var candidates = new ScriptedCandidates("P.EEE-EEE", "P.EEE-EEE", "P.FFF-FFF");
        await using var isolated = Start(candidates);
        var client = isolated.Client();
        var team = (string)(await client.CreateTeamAsync())["id"]!;
        var first = (string)(await client.CreateProductAsync(team))["id"]!;
        (await client.DeleteAsync($"/ProductTeam/{team}/Product/{first}")).AssertStatus(HttpStatusCode.OK);

        var second = (string)(await client.CreateProductAsync(team))["id"]!;

        Assert.Equal("P.EEE-EEE", first);
        Assert.Equal("P.FFF-FFF", second);
        (await client.GetAsync($"/Product/{first}")).AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ProductCreateGives503NotA500WhenEveryDrawnIdIsTaken()
    {
        var candidates = new ScriptedCandidates("P.GGG-GGG");
        await using var isolated = Start(candidates);
        var client = isolated.Client();
        var team = (string)(await client.CreateTeamAsync())["id"]!;
        await client.CreateProductAsync(team);

        var reply = await client.PostAsync($"/ProductTeam/{team}/Product", """{"name": "No Room"}""");

        reply.AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE", "No free product id after 10 attempts.");
        Assert.NotNull(reply.Header("Retry-After"));
    }

    [Theory]
    [InlineData("[\"P.AAA-AAA\"")]
    [InlineData("{\"ids\": []}")]
    [InlineData("[1, 2]")]
    public async Task ServiceRefusesToStartWithAnUnreadableReservedFile(string content)
    {
        var reservedFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(reservedFile, content);
        try
        {
            var failure = Assert.ThrowsAny<Exception>(() => Start(new ScriptedCandidates("P.HHH-HHH"), reservedFile));

            Assert.Contains("ProductIds:ReservedFile", failure.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(reservedFile);
        }
    }

    private IsolatedService Start(ScriptedCandidates candidates, string? reservedFile = null) =>
        IsolatedService.Start(_ord.BaseUrl,
            new Dictionary<string, string?> { ["ProductIds:ReservedFile"] = reservedFile },
            services => services.Replace(ServiceDescriptor.Singleton<IProductIdCandidates>(candidates)));

    /// <summary>Hands out the given ids in order, then repeats the last one forever.</summary>
    private sealed class ScriptedCandidates(params string[] ids) : IProductIdCandidates
    {
        private int _next = -1;

        public string Draw() => ids[Math.Min(Interlocked.Increment(ref _next), ids.Length - 1)];
    }
}
