using System.Diagnostics.Metrics;

namespace Cpm.Api.Telemetry;

/// <summary>The service's own instruments; request counts and latencies come from ASP.NET Core's.</summary>
internal sealed class CpmMetrics
{
    public const string ServiceName = "cpm-api";
    public const string MeterName = "Cpm.Api";

    private readonly Counter<long> _odsChecks;
    private readonly Histogram<int> _checkpointFrames;
    private readonly Histogram<double> _writerPauses;

    public CpmMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _odsChecks = meter.CreateCounter<long>("cpm.ods.checks", description: "ODS organisation checks by outcome (valid, invalid, unavailable, cached).");
        _checkpointFrames = meter.CreateHistogram<int>(
            "cpm.sqlite.checkpoint.frames",
            unit: "{frame}",
            description: "Write-ahead log frames (pages) a SQLite checkpoint copied into the database, by whether it held the writer.");
        _writerPauses = meter.CreateHistogram<double>(
            "cpm.sqlite.writer.pause.duration",
            unit: "s",
            description: "How long a SQLite checkpoint held the writer, so that no write could commit meanwhile.");
    }

    public void OdsChecked(string outcome) => _odsChecks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Checkpointed(int frames, bool heldWriter) =>
        _checkpointFrames.Record(frames, new KeyValuePair<string, object?>("held_writer", heldWriter));

    public void WriterPaused(TimeSpan duration) => _writerPauses.Record(duration.TotalSeconds);
}
