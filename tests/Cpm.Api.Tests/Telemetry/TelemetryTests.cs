using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Telemetry;

/// <summary>Request spans carry the NHS request ids; ODS outcomes and request latencies are measured.</summary>
public sealed class TelemetryTests(SqliteService service) : IClassFixture<SqliteService>
{
    [Fact]
    public async Task RequestSpansCarryTheRequestAndCorrelationIds()
    {
        var requestId = Guid.NewGuid().ToString();
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        (await service.Client().GetAsync("/_status", ("X-Request-Id", requestId), ("X-Correlation-Id", "corr-telemetry"))).AssertStatus(HttpStatusCode.OK);

        // The server's span stops just after the response is sent, so it may land a moment later.
        for (var wait = 0; wait < 50 && !spans.Any(s => (string?)s.GetTagItem("cpm.request_id") == requestId); wait++)
        {
            await Task.Delay(20);
        }

        var span = Assert.Single(spans, s => (string?)s.GetTagItem("cpm.request_id") == requestId);
        Assert.Equal("corr-telemetry", span.GetTagItem("cpm.correlation_id"));
    }

    [Fact]
    public async Task OdsCheckOutcomesAndRequestDurationsByRouteAreMeasured()
    {
        var measurements = new ConcurrentBag<(string Instrument, KeyValuePair<string, object?>[] Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, meters) =>
            {
                if (instrument.Name is "cpm.ods.checks" or "http.server.request.duration")
                {
                    meters.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => measurements.Add((instrument.Name, tags.ToArray())));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => measurements.Add((instrument.Name, tags.ToArray())));
        listener.Start();

        var client = service.Client();
        await client.CreateTeamAsync();
        (await client.PostAsync("/ProductTeam", """{"ods_code": "BAD42", "name": "n"}""")).AssertStatus(HttpStatusCode.UnprocessableEntity);
        await Task.Delay(100);

        Assert.Contains(measurements, m => m.Instrument == "cpm.ods.checks" && m.Tags.Contains(new("outcome", "valid")));
        Assert.Contains(measurements, m => m.Instrument == "cpm.ods.checks" && m.Tags.Contains(new("outcome", "invalid")));
        Assert.Contains(measurements, m => m.Instrument == "http.server.request.duration"
            && m.Tags.Any(t => t.Key == "http.route" && ((string)t.Value!).TrimEnd('/') == "/ProductTeam") && m.Tags.Any(t => t.Key == "http.response.status_code" && Equals(t.Value, 422)));
    }
}
