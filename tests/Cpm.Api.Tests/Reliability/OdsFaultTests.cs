using System.Diagnostics;
using System.Net;
using Cpm.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Cpm.Api.Tests.Reliability;

/// <summary>
/// Team creation when ODS is down, hanging, slow, failing or talking nonsense: a bounded wait, a
/// 503 with Retry-After and nothing written, and recovery on its own. Each test runs its own
/// service, so the ODS client's circuit breaker opened here reaches no other test.
/// </summary>
public sealed class OdsFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(15);

    private FakeOrd _ord = null!;

    public async Task InitializeAsync() => _ord = await FakeOrd.StartAsync();

    public async Task DisposeAsync() => await _ord.DisposeAsync();

    [Fact]
    public async Task OdsRefusingConnectionsGives503WithRetryAfterAndWritesNothing()
    {
        await using var service = IsolatedService.Start(FakeOrd.ClosedBaseUrl());

        await AssertUnavailableAndNothingWrittenAsync(service.Client(), Unique.OdsCode(), "refused");
    }

    [Fact]
    public async Task HangingOdsGives503WithinFifteenSecondsAndWritesNothing()
    {
        await using var service = IsolatedService.Start(_ord.BaseUrl);
        var ods = Unique.OdsCode();
        _ord.Set(ods, OrdBehaviour.Hang);

        await AssertUnavailableAndNothingWrittenAsync(service.Client(), ods, "hanging");
    }

    [Fact]
    public async Task SlowOdsAnsweringWithinTheAttemptTimeoutStillCreatesTheTeamWithOneCall()
    {
        // Half a second against the 3 s attempt timeout: a busy machine can stall for a second or
        // two without the answer turning into a timed-out attempt and a retry.
        var delay = TimeSpan.FromMilliseconds(500);
        await using var slow = await FakeOrd.StartAsync(delay);
        await using var service = IsolatedService.Start(slow.BaseUrl);
        var stopwatch = Stopwatch.StartNew();

        await service.Client().CreateTeamAsync();

        Assert.InRange(stopwatch.Elapsed, delay, AnswerBound);
        Assert.Equal(1, slow.Requests);
    }

    [Fact]
    public async Task TwoOdsServerErrorsAreRetriedAndTheTeamIsCreated()
    {
        await using var service = IsolatedService.Start(_ord.BaseUrl);
        var ods = Unique.OdsCode();
        _ord.FailTimes(ods, 2);

        var team = await service.Client().CreateTeamAsync(ods);

        Assert.Equal(ods, (string)team["ods_code"]!);
        Assert.Equal(3, _ord.CallsFor(ods));
    }

    [Fact]
    public async Task PersistentOdsServerErrorsGive503AndCreatesWorkAgainWhenOdsRecovers()
    {
        await using var service = IsolatedService.Start(_ord.BaseUrl);
        var client = service.Client();
        var ods = Unique.OdsCode();
        _ord.Set(ods, OrdBehaviour.ServerError);

        await AssertUnavailableAndNothingWrittenAsync(client, ods, "answering 503");
        Assert.Equal(4, _ord.CallsFor(ods));

        _ord.Set(ods, OrdBehaviour.Known);
        await client.CreateTeamAsync(ods);
        var listed = await client.GetAsync($"/ProductTeam?organisation_code={ods}");
        Assert.Single(listed.Json()["results"]!.AsArray());
    }

    [Fact]
    public async Task OdsOutageOpensTheCircuitAndTheServiceRecoversByItselfWhenOdsReturns()
    {
        await using var service = IsolatedService.Start(_ord.BaseUrl);
        var client = service.Client();
        var failing = Unique.OdsCode();
        _ord.Set(failing, OrdBehaviour.ServerError);
        var stopwatch = Stopwatch.StartNew();

        // 30 requests of 4 attempts each pass the breaker's minimum of 100 attempts, all failed.
        var outage = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => Task.Run(() => PostTeamAsync(client, failing))));
        Assert.All(outage, reply => reply.AssertStatus(HttpStatusCode.ServiceUnavailable));
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, AnswerBound);

        // Open: a healthy code is refused at once, without bothering ODS.
        var healthy = Unique.OdsCode();
        var shed = await PostTeamAsync(client, healthy);
        shed.AssertStatus(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(0, _ord.CallsFor(healthy));

        _ord.Set(failing, OrdBehaviour.Known);
        var recovering = Stopwatch.StartNew();
        var attempts = 0;
        Reply reply;
        do
        {
            attempts++;
            reply = await PostTeamAsync(client, failing);
            if (reply.Status == HttpStatusCode.Created)
            {
                break;
            }

            reply.AssertStatus(HttpStatusCode.ServiceUnavailable);
            await Task.Delay(250);
        }
        while (recovering.Elapsed < AnswerBound);

        reply.AssertStatus(HttpStatusCode.Created);
        output.WriteLine($"circuit open after {stopwatch.Elapsed.TotalSeconds - recovering.Elapsed.TotalSeconds:0.0} s of outage; "
            + $"recovered {recovering.Elapsed.TotalSeconds:0.0} s after ODS did ({attempts} tries)");
    }

    [Fact]
    public async Task MalformedOdsBodyWithStatus200CountsAsValid()
    {
        await using var service = IsolatedService.Start(_ord.BaseUrl);
        var ods = Unique.OdsCode();
        _ord.Set(ods, OrdBehaviour.Malformed);

        var team = await service.Client().CreateTeamAsync(ods);

        Assert.Equal(ods, (string)team["ods_code"]!);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task DotSegmentOdsCodesAreInvalidWithoutAskingOds(string ods)
    {
        await using var lenient = await FakeOrd.StartAsync();
        await using var service = IsolatedService.Start(lenient.BaseUrl);

        var reply = await PostTeamAsync(service.Client(), ods);

        reply.AssertError(HttpStatusCode.UnprocessableEntity, "UNPROCESSABLE_ENTITY", $"Invalid ODS Code: could not resolve '{lenient.BaseUrl}/{ods}'");
        Assert.Equal(0, lenient.Requests);
    }

    private static Task<Reply> PostTeamAsync(CpmClient client, string ods) =>
        client.PostAsync("/ProductTeam", $$"""{"ods_code": "{{ods}}", "name": "Ods Fault Team", "keys": [{"key_type": "product_team_id", "key_value": "{{Guid.NewGuid()}}"}]}""");

    private async Task AssertUnavailableAndNothingWrittenAsync(CpmClient client, string ods, string how)
    {
        var stopwatch = Stopwatch.StartNew();
        var reply = await PostTeamAsync(client, ods);
        var elapsed = stopwatch.Elapsed;

        reply.AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE",
            $"ODS is unavailable: could not check ODS code '{ods}'; nothing was created, try again later");
        Assert.Equal("5", reply.Header("Retry-After"));
        Assert.InRange(elapsed, TimeSpan.Zero, AnswerBound);
        var listed = await client.GetAsync($"/ProductTeam?organisation_code={ods}");
        Assert.Equal("""{"results": []}""", listed.Body);
        output.WriteLine($"ODS {how}: 503 after {elapsed.TotalSeconds:0.0} s, nothing written");
    }
}
