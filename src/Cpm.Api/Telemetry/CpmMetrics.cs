using System.Diagnostics.Metrics;

namespace Cpm.Api.Telemetry;

/// <summary>The service's own instruments; request counts and latencies come from ASP.NET Core's.</summary>
internal sealed class CpmMetrics
{
    public const string ServiceName = "cpm-api";
    public const string MeterName = "Cpm.Api";

    private readonly Counter<long> _odsChecks;

    public CpmMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _odsChecks = meter.CreateCounter<long>("cpm.ods.checks", description: "ODS organisation checks by outcome (valid, invalid, unavailable, cached).");
    }

    public void OdsChecked(string outcome) => _odsChecks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
