using System.Net;
using System.Text.Json.Nodes;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Telemetry;

/// <summary>
/// What operators read: the real service process's stdout holds one JSON line per request, and
/// every line written while a request runs carries its <c>X-Request-Id</c> and <c>X-Correlation-Id</c>.
/// </summary>
public sealed class AccessLogTests(RealService service) : IClassFixture<RealService>
{
    private const string AccessLogCategory = "Cpm.Api.Http.RequestContextMiddleware";

    [Fact]
    public async Task EachRequestWritesOneJsonLineWithItsRouteOutcomeCallerAndIds()
    {
        var requestId = Guid.NewGuid().ToString();

        (await service.Client().GetAsync("/Product/P.AAA-333", ("X-Request-Id", requestId), ("X-Correlation-Id", "corr-log-1")))
            .AssertStatus(HttpStatusCode.NotFound);

        var line = Assert.Single(await LinesForAsync(requestId, AccessLogCategory));
        Assert.Equal("Information", (string?)line["LogLevel"]);
        Assert.Equal("GET", (string?)line["Method"]);
        Assert.Equal("/Product/{product_id}", (string?)line["Route"]);
        Assert.Equal("/Product/P.AAA-333", (string?)line["Path"]);
        Assert.Equal(404, (int?)line["Status"]);
        Assert.Equal("apikey-0", (string?)line["Caller"]);
        Assert.Equal("corr-log-1", (string?)line["XCorrelationId"]);
        Assert.True((double?)line["DurationMs"] >= 0);
        var written = DateTimeOffset.Parse((string)line["Timestamp"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.Zero, written.Offset);
        Assert.InRange(DateTimeOffset.UtcNow - written, TimeSpan.Zero, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task LinesWrittenByOtherCodeDuringARequestCarryItsIds()
    {
        var requestId = Guid.NewGuid().ToString();

        (await service.Client().PostAsync("/ProductTeam", """{"ods_code": "LOGGED1", "name": "Logged"}""", ("X-Request-Id", requestId), ("X-Correlation-Id", "corr-log-2")))
            .AssertStatus(HttpStatusCode.Created);

        var ods = Assert.Single(await LinesForAsync(requestId, "Cpm.Api.Ods.OdsClient"));
        Assert.Equal("ODS answered 200 for LOGGED1", (string?)ods["Message"]);
        Assert.Equal("corr-log-2", (string?)ods["XCorrelationId"]);
    }

    [Fact]
    public async Task EveryLineIsOneJsonObjectEvenWhenAFrameworkLogCarriesAnObject()
    {
        // At Information the routing middleware logs the matched Endpoint object itself.
        var (_, output) = await OwnProcessOutputAsync("/_status", HttpStatusCode.OK, settings: ["--Logging:LogLevel:Microsoft.AspNetCore.Routing=Information"]);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.All(lines, line => Assert.IsType<JsonObject>(JsonNode.Parse(line)));
        Assert.Contains(lines.Select(line => JsonNode.Parse(line)!), line =>
            (string?)line["Message"] == "Executing endpoint 'HTTP: GET /_status => GetStatusAsync'"
            && (string?)line["EndpointName"] == "HTTP: GET /_status => GetStatusAsync");
    }

    [Fact]
    public async Task StartedFromAnotherFolderARequestStillWritesOneLine()
    {
        // dotnet /app/Cpm.Api.dll from elsewhere: no appsettings.json in the working directory.
        var (requestId, output) = await OwnProcessOutputAsync("/Product/P.AAA-333", HttpStatusCode.NotFound, fromAnotherFolder: true);

        var line = Assert.Single(output.Split('\n'), text => text.Contains(requestId, StringComparison.Ordinal));
        Assert.Equal(AccessLogCategory, (string?)JsonNode.Parse(line)!["Category"]);
    }

    /// <summary>
    /// One GET, with a fresh request id, to a service process of its own (started with extra
    /// <paramref name="settings"/>, or from a folder without appsettings.json), and everything the
    /// process wrote once that request's access line is out.
    /// </summary>
    private static async Task<(string RequestId, string Output)> OwnProcessOutputAsync(
        string path, HttpStatusCode expected, string[]? settings = null, bool fromAnotherFolder = false)
    {
        await using var ord = await FakeOrd.StartAsync();
        var directory = Directory.CreateTempSubdirectory("cpm-log-");
        try
        {
            await using var process = await ServiceProcess.StartAsync(
                Path.Combine(directory.FullName, "cpm.db"), ord.BaseUrl, RealService.ApiKey, settings, fromAnotherFolder ? directory.FullName : null);
            var requestId = Guid.NewGuid().ToString();
            (await process.Client(RealService.ApiKey).GetAsync(path, ("X-Request-Id", requestId))).AssertStatus(expected);
            for (var attempt = 0; attempt < 100 && !HasAccessLine(process.Output, requestId); attempt++)
            {
                await Task.Delay(50);
            }

            return (requestId, process.Output);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static bool HasAccessLine(string output, string requestId) =>
        output.Split('\n').Any(line => line.Contains(requestId, StringComparison.Ordinal) && line.Contains(AccessLogCategory, StringComparison.Ordinal));

    /// <summary>The stdout lines of one category that carry this request id, once its access line is out (lines are written in the background).</summary>
    private async Task<List<JsonObject>> LinesForAsync(string requestId, string category)
    {
        for (var attempt = 0; attempt < 100 && !Parsed(requestId).Any(line => (string?)line["Category"] == AccessLogCategory); attempt++)
        {
            await Task.Delay(50);
        }

        return [.. Parsed(requestId).Where(line => (string?)line["Category"] == category)];
    }

    private IEnumerable<JsonObject> Parsed(string requestId) =>
        service.Process.Output.Split('\n')
            .Where(text => text.Contains(requestId, StringComparison.Ordinal))
            .Select(text => JsonNode.Parse(text)!.AsObject())
            .Where(line => (string?)line["XRequestId"] == requestId);
}
